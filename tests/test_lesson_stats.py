"""The lesson counters and limits (npsnn_edu.course.lesson_stats) on small synthetic notebooks: a notebook that follows
the template passes, and each broken limit is reported by name (tests/test_lesson_limits.py cannot pass vacuously)."""
from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pytest

from npsnn_edu.course import lesson_stats as ls
from npsnn_edu.errors import DataFormatError

QUIZ = {"01_demo": [{"question": f"q{k}"} for k in range(4)], "01b_demo": [{"question": "q"}] * 4}
TIMINGS = {"notebooks": {"01_demo": {"classroom": {"seconds": 90.0}}}}


def md(text: str):
    return nbformat.v4.new_markdown_cell(text)


def code(text: str):
    return nbformat.v4.new_code_cell(text)


def template_cells(n: int = 1, stem: str = "01_demo") -> list:
    """A minimal notebook that follows the lesson template (chapter ``n``)."""
    return [
        md(f"# Chapter {n} · A demo\n\n**Aim.** Learn it.\n\n**Time.** reading ~20 min · running ~5 min · "
           f"exercises ~45 min\n\n**Prerequisites.** None.\n\n**Contents.**\n*Theory*: a.\n*Practical*: b."),
        md("## Theory\n\nThe idea."),
        code("fig_a()"),
        md(f"**Figure {n}.1.** Look at the arrows."),
        code("fig_b()"),
        md(f"**Figure {n}.2.** Look at the box."),
        md("## Practical"),
        code("import numpy as np"),
        md(f"### Exercise {n}.1 · Kick (predict, then run)\nPredict first."),
        code("### BEGIN SOLUTION\nx = 1\n### END SOLUTION"),
        md(f"### Exercise {n}.2 · Drift"),
        code("y = 2"),
        md(f"### Exercise {n}.3 · Kick again"),
        code("z = 3"),
        md("## Discussion\nWhat it can do."),
        md("## Quiz"),
        code(f'from npsnn_edu.viz.quiz import show_quiz\n\nshow_quiz("{stem}")'),
        md("## Key points\n- one\n- two\n- three"),
        md("## What next\nChapter 2."),
        md("## References\n1. A. Author, J. Chem. Phys. 123, 4567 (2001)."),
    ]


def write(tmp_path: Path, cells: list, stem: str = "01_demo") -> Path:
    nb = nbformat.v4.new_notebook()
    nb.cells = cells
    path = tmp_path / f"{stem}.ipynb"
    nbformat.write(nb, path)
    return path


def stats_of(tmp_path: Path, cells: list, stem: str = "01_demo") -> ls.LessonStats:
    return ls.lesson_stats(write(tmp_path, cells, stem), timings=TIMINGS, quiz_loader=lambda name: QUIZ[name])


def test_a_template_notebook_passes_and_is_counted(tmp_path):
    s = stats_of(tmp_path, template_cells())
    assert ls.check_lesson(s) == []
    assert s.kind == "lab" and s.chapter == 1 and s.title_chapter == 1
    assert [f for _, f in s.figures] == ["1.1", "1.2"]
    assert len(s.exercises) == 3 and len(s.predict) == 1
    assert s.quiz_calls == [(16, "01_demo")] and s.quiz_questions == 4
    # the only numbers: none (Time line, chapter/figure/exercise labels, headings and references are excluded)
    assert s.numbers == []
    words = sum(len(c.source.split()) for c in template_cells() if c.cell_type == "markdown")
    assert s.words == words
    assert s.reading_minutes == pytest.approx(words / 100)
    assert s.running_minutes == pytest.approx(1.5)
    assert s.total_minutes == pytest.approx(words / 100 + 1.5 + 30)


@pytest.mark.parametrize("text, expected", [
    ("The box holds 108 atoms at T = 0.85 (reduced units).", ["108", "0.85"]),
    ("An error of 2.9e-6, a bound of 37 %, and 5e-3.", ["2.9e-6", "37 %", "5e-3"]),
    ("Inline maths $\\epsilon = 1.5$ and code `n_steps=4000` count.", ["1.5", "4000"]),
    ("Single digits 1, 2 and 9 do not; years 1967 and 2024 do not.", []),
    ("See Chapter 2, Figure 1.2, Exercise 3.1, Section 4.5 and Table 10.", []),
    ("A [link](notebooks/02_verlet.ipynb) and https://doi.org/10.1063/1.123 do not.", []),
    ("Stable for omega h < 2.43 with 64 knots; 300-1000 K.", ["2.43", "64", "300", "1000"]),
])
def test_numbers_in_prose_follow_the_counting_rule(text, expected):
    assert [n for _, n in ls.numbers_in_prose([md(text)])] == expected


def test_headings_references_time_and_code_cells_are_not_prose():
    cells = [md("## Results for 108 atoms\n**Time.** reading ~25 min · running ~10 min\nWe used 256 steps."),
             code("n = 1000  # 3.14"),
             md("## References\n1. Verlet, Phys. Rev. 159, 98 (1967).\n## Discussion\n0.5 of it.")]
    assert ls.numbers_in_prose(cells) == [(0, "256"), (2, "0.5")]


def test_code_cell_length_and_import_only():
    body = "\n".join(f"x{k} = {k}" for k in range(15))
    assert ls.code_cell_length("\n\n" + body + "\n\n") == 15
    assert ls.code_cell_length("### BEGIN SOLUTION\n" + body + "\n### END SOLUTION\n# NBVAL_IGNORE_OUTPUT") == 15
    assert ls.code_cell_length(body + "\n\nx = 1") == 17  # blank lines inside count
    assert ls.is_import_only("import numpy as np\n# plots\nfrom npsnn_edu import (\n    units,\n    config,\n)")
    assert not ls.is_import_only("import numpy as np\nx = np.ones(3)")
    assert not ls.is_import_only("%matplotlib inline\nimport numpy")  # not Python: not exempt
    assert not ls.is_import_only("")


def _broken(mutate) -> list:
    cells = template_cells()
    mutate(cells)
    return cells


def _long_cell(cells):
    cells[11] = code("\n".join(f"y{k} = {k}" for k in range(16)))


def _many_numbers(cells):
    cells[1] = md("## Theory\n" + " ".join(f"{k}.5" for k in range(31)))


def _many_words(cells):
    cells[1] = md("## Theory\n" + "word " * 2500)


CASES = {
    "words": (_many_words, "markdown words > 2500"),
    "numbers": (_many_numbers, "31 numbers in prose > 30; most in cells 1: 0.5, 1.5"),
    "long code": (_long_cell, "code cell 11 has 16 lines > 15"),
    "no title": (lambda c: c.__setitem__(0, md("# A demo\n**Aim.** x **Time.** y **Prerequisites.** z "
                                               "**Contents.** w")), "must start with '# Chapter N"),
    "wrong chapter": (lambda c: c.__setitem__(0, md(c[0].source.replace("Chapter 1", "Chapter 2"))),
                      "title says Chapter 2"),
    "no aim": (lambda c: c.__setitem__(0, md(c[0].source.replace("**Aim.**", "Aim:"))), "lacks '**Aim.**'"),
    "no time": (lambda c: c.__setitem__(0, md(c[0].source.replace("**Time.**", "Time"))), "lacks '**Time.**'"),
    "no contents": (lambda c: c.__setitem__(0, md(c[0].source.replace("**Contents.**", ""))), "'**Contents.**'"),
    "no discussion": (lambda c: c.__setitem__(14, md("## Summary")), "no '## Discussion' section"),
    "no key points": (lambda c: c.__setitem__(17, md("## Take-aways")), "no '## Key points' section"),
    "no what next": (lambda c: c.__setitem__(18, md("## Next")), "no '## What next' section"),
    "order": (lambda c: c.insert(1, c.pop(14)), "sections out of order"),
    "one figure": (lambda c: c.__setitem__(5, md("Figure 1.2 without the bold label.")),
                   "1 captioned figure(s) in the Theory section(s) < 2"),
    "figures in practical": (lambda c: c.insert(6, c.pop(1)), "0 captioned figure(s) in the Theory"),
    "loose caption": (lambda c: c.insert(6, md("**Figure 1.3.** Not after a code cell.")),
                      "caption in cell 6 does not follow a code cell"),
    "two exercises": (lambda c: c.__setitem__(12, md("### Practice")), "2 '### Exercise N.k · Title' heading(s) < 3"),
    "no predict": (lambda c: c.__setitem__(8, md("### Exercise 1.1 · Kick\n")), "no exercise heading ends with"),
    "no quiz call": (lambda c: c.__setitem__(16, code("pass")), "no show_quiz('01_demo') call"),
    "other quiz": (lambda c: c.__setitem__(16, code('show_quiz("01b_demo")')), "the quiz of this notebook is"),
    "quiz outside": (lambda c: c.insert(8, c.pop(16)), "is not in the '## Quiz' section"),
    "provenance": (lambda c: c.__setitem__(14, md("## Discussion\nMeasured on a shared 2-core machine with "
                                                  "`make bench`; DOI not verified.")),
                   "provenance in student text, cell 14: 'make bench'"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_each_broken_limit_is_reported(tmp_path, case):
    mutate, fragment = CASES[case]
    problems = ls.check_lesson(stats_of(tmp_path, _broken(mutate)))
    assert any(fragment in p for p in problems), problems
    assert all(p.startswith("01_demo.ipynb: ") for p in problems)  # names the notebook


def test_short_quiz_and_unloadable_quiz_are_reported(tmp_path):
    s = ls.lesson_stats(write(tmp_path, template_cells()), timings=TIMINGS,
                        quiz_loader=lambda name: [{"question": "q"}] * 3)
    assert any("its quiz has 3 question(s) < 4" in p for p in ls.check_lesson(s))

    def missing(name):
        raise KeyError(f"unknown quiz {name!r}")

    s = ls.lesson_stats(write(tmp_path, template_cells()), timings=TIMINGS, quiz_loader=missing)
    assert any("its quiz does not load: KeyError" in p for p in ls.check_lesson(s))


def test_a_lab_over_two_hours_is_reported(tmp_path):
    cells = template_cells()
    for k in range(4, 14):
        cells.insert(13, md(f"### Exercise 1.{k} · More"))
    s = stats_of(tmp_path, cells)
    assert len(s.exercises) == 13
    assert any("min > 120 min (reading" in p for p in ls.check_lesson(s))


def test_going_further_notebooks_get_the_template_but_not_the_length_limits(tmp_path):
    cells = template_cells(stem="01b_demo")
    cells[1] = md("## Theory\n" + " ".join(f"{k}.5" for k in range(40)) + " word" * 3000)
    del cells[10:14]  # one exercise left, not predict-then-run... keep exercise 1.1 only
    cells[8] = md("### Exercise 1.1 · Kick")
    s = stats_of(tmp_path, cells, stem="01b_demo")
    assert s.kind == "going-further" and len(s.exercises) == 1
    assert ls.check_lesson(s) == []
    s = stats_of(tmp_path, _broken(lambda c: c.__setitem__(14, md("## Summary"))), stem="01b_demo")
    assert any("no '## Discussion' section" in p for p in ls.check_lesson(s))


def test_bad_files_raise_data_format_errors(tmp_path):
    with pytest.raises(DataFormatError, match="not a notebook file"):
        ls.lesson_stats(tmp_path / "absent.ipynb")
    (tmp_path / "bad.ipynb").write_text("{not json")
    with pytest.raises(DataFormatError, match="not valid notebook JSON"):
        ls.lesson_stats(tmp_path / "bad.ipynb")
    (tmp_path / "nocells.ipynb").write_text(json.dumps({"metadata": {}}))
    with pytest.raises(DataFormatError, match="no 'cells' list"):
        ls.lesson_stats(tmp_path / "nocells.ipynb")


def test_cli_prints_a_row_per_notebook_and_checks(tmp_path, capsys, monkeypatch):
    good = write(tmp_path, template_cells())
    monkeypatch.setattr(ls, "_classroom_seconds", lambda stem, timings: 90.0)
    import npsnn_edu.viz.quiz as quiz

    monkeypatch.setattr(quiz, "load_quiz", lambda name: QUIZ[name])
    assert ls.main([str(good), "--check"]) == 0
    out = capsys.readouterr().out
    row = next(line for line in out.splitlines() if line.startswith("01_demo"))
    assert row.split()[:7] == ["01_demo", "lab", str(ls.lesson_stats(good, timings=TIMINGS,
                               quiz_loader=lambda n: QUIZ[n]).words), "0", "2", "4", "3"]
    assert "All limits hold." in out
    bad = write(tmp_path, _broken(_long_cell), stem="01_demo")
    assert ls.main([str(bad), "--check", "--markdown"]) == 1
    out = capsys.readouterr().out
    assert out.startswith("| notebook | kind | words |") and "code cell 11 has 16 lines" in out


def test_the_template_doc_states_the_limits_the_code_enforces():
    """docs/lesson_template.md's limits table and time rule are the values npsnn_edu.course.lesson_stats checks."""
    import re

    text = (Path(__file__).resolve().parents[1] / "docs" / "lesson_template.md").read_text(encoding="utf-8")
    rows = {m.group(1).strip(): m.group(2).strip() for m in re.finditer(r"^\| ([^|]+) \| ([^|]+) \|", text, re.M)}

    def num(cell: str) -> int:  # the first number of a table cell ("<= 2,500" -> 2500)
        return int(re.findall(r"\d[\d,]*", cell)[0].replace(",", ""))

    assert num(rows["markdown words"]) == ls.LIMITS["words"]
    assert num(rows["numbers in prose"]) == ls.LIMITS["numbers"]
    assert num(rows["code-cell length"]) == ls.LIMITS["code_lines"]
    assert num(rows["captioned figures in Theory"]) == ls.LIMITS["figures"]
    assert rows["exercises"] == f">= {ls.LIMITS['exercises']}, >= {ls.LIMITS['predict']} predict-then-run"
    assert num(rows["quiz questions"]) == ls.LIMITS["quiz_questions"]
    assert num(rows["estimated time"]) == ls.LIMITS["minutes"]
    assert f"reading at {ls.WORDS_PER_MINUTE} words a minute" in text
    assert f"{ls.MINUTES_PER_EXERCISE} minutes per exercise" in text
    assert f"words / {ls.WORDS_PER_MINUTE} + classroom run time + {ls.MINUTES_PER_EXERCISE} min per exercise" in text
    guide = (Path(__file__).resolve().parents[1] / "docs" / "instructor" / "README.md").read_text(encoding="utf-8")
    assert f"reading at {ls.WORDS_PER_MINUTE} words a minute" in guide
    assert f"{ls.MINUTES_PER_EXERCISE} minutes per exercise" in guide
