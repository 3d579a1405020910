"""Chapter 1 as a lesson: the lab's text and the numbers a classroom (and a fast) run prints.

* every number the prose quotes is checked here against the kit's computed or shipped value (a number without a
  check fails the test), and the lab stays inside the lesson template's limits;
* every ordering or threshold the text states holds in the numbers the notebook's own cells print, run in
  classroom mode (and in fast mode, what CI runs): Verlet second order (error ratio about 4), a period shorter than
  2 pi / omega, the crystals settling at about half of T0, the hotter run melting (MSD growing) while the cooler one
  does not, the liquid's first g(r) peak near 2^(1/6) sigma, Langevin holding the target temperature;
* the new analysis helpers (diffusion_report, lattice_shells, rdf_figure's y range) on inputs with known answers.
"""
from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest

from npsnn_edu.config import set_mode
from npsnn_edu.errors import InvalidParameterError, ShapeMismatchError
from npsnn_edu.md import analysis

REPO = Path(__file__).resolve().parents[1]
NOTEBOOK = REPO / "notebooks" / "01_newtonian_md.ipynb"
QUIZ = REPO / "npsnn_edu" / "data" / "quizzes" / "01_newtonian_md.json"
NB = json.loads(NOTEBOOK.read_text())


def _src(cell: dict) -> str:
    return "".join(cell["source"])


MARKDOWN = [_src(c) for c in NB["cells"] if c["cell_type"] == "markdown"]
PROSE = "\n".join(MARKDOWN).split("## References")[0]

# counting rule of the lesson template: a number with a decimal point, an exponent, a % sign or >= 2 digits, in
# markdown text, inline maths or inline code; headings, years and the References section left out
_NUMBER = re.compile(r"(?<![\w.])(\d+\.\d+|\d+(?:\.\d+)?[eE][-+]?\d+|\d+(?:\.\d+)?\s*%|\d{2,})(?!\w)")


def prose_numbers() -> list[tuple[str, str]]:
    """(number, line) for every number in prose by the template's counting rule."""
    found = []
    for line in PROSE.split("\n"):
        if line.lstrip().startswith("#"):
            continue
        for m in _NUMBER.finditer(line):
            if not re.fullmatch(r"(19|20)\d\d", m.group(1)):
                found.append((m.group(1), line))
    return found


def _only_imports(src: str) -> bool:
    return all(ln.startswith(("import ", "from ", " ")) or not ln.strip() for ln in src.split("\n"))


def markdown_words() -> int:
    return sum(len(text.split()) for text in MARKDOWN)


# ------------------------------------------------------------------------------------------- the text
def _check_lj_exponent() -> bool:
    from npsnn_edu.potentials import LennardJones

    r = np.array([0.95, 1.3, 2.0])
    return bool(np.allclose(LennardJones(cutoff=None, shift=False).pair_energy(r), 4 * (r**-12 - r**-6)))


def _check_n_atoms() -> bool:
    from npsnn_edu.systems import lj_fcc_system

    return len(lj_fcc_system(n_cells=3).positions) == 108


def _check_cutoff() -> bool:
    from npsnn_edu.systems import lj_fcc_system

    return lj_fcc_system(n_cells=3).potential.cutoff == 2.5


def _time_line() -> tuple[int, int, int]:
    m = re.search(r"reading ~(\d+) min · running ~(\d+) min · exercises ~(\d+) min", PROSE)
    assert m, "the Time line of the template is missing"
    return int(m.group(1)), int(m.group(2)), int(m.group(3))


def _stats():
    from npsnn_edu.course.lesson_stats import lesson_stats

    return lesson_stats(NOTEBOOK)


def _check_reading_time() -> bool:
    return abs(_time_line()[0] - _stats().reading_minutes) <= 3  # the kit's estimate: 100 words a minute


def _check_exercise_time() -> bool:
    stats = _stats()
    return _time_line()[2] == round(stats.exercise_minutes) and stats.total_minutes <= 120  # a 2-hour lab


def _check_label(kind: str, label: str) -> bool:
    if kind == "Figure":
        return any(text.startswith(f"**Figure {label}.**") for text in MARKDOWN)
    return any(f"### Exercise {label} ·" in text for text in MARKDOWN)


#: every number the prose may quote, with the check that it is right
CHECKED = {
    "12": _check_lj_exponent,       # the LJ repulsion exponent in u(r)
    "108": _check_n_atoms,          # N = 108
    "2.5": _check_cutoff,           # r_c = 2.5 sigma
    "25": _check_reading_time,      # reading ~25 min
    "70": _check_exercise_time,     # exercises ~70 min (and reading + running + exercises within 2 h)
}


def test_every_number_in_prose_is_checked_and_right():
    unchecked, wrong = [], []
    for number, line in prose_numbers():
        label = re.search(rf"(Figure|Exercise)s? (?:\d\.\d, )*{re.escape(number)}\b", line)
        if label and re.fullmatch(r"1\.\d", number):
            if not _check_label(label.group(1), number):
                wrong.append(f"{label.group(1)} {number} referenced but not in the notebook")
            continue
        if number not in CHECKED:
            unchecked.append(f"{number!r} in: {line.strip()[:90]}")
        elif not CHECKED[number]():
            wrong.append(f"{number!r} is not what the kit computes: {line.strip()[:90]}")
    assert not unchecked, "numbers in prose without a check (add one to CHECKED):\n" + "\n".join(unchecked)
    assert not wrong, "\n".join(wrong)


def test_the_lab_fits_the_template_limits():
    assert markdown_words() <= 2500
    assert len(prose_numbers()) <= 30
    for cell in NB["cells"]:
        src = _src(cell)
        if cell["cell_type"] == "code" and not _only_imports(src):
            assert len(src.split("\n")) <= 15, src
    assert "widgets" not in NB["metadata"]
    assert all(c.get("outputs", []) == [] for c in NB["cells"] if c["cell_type"] == "code")


def test_template_sections_in_order_with_captioned_schematics():
    headings = [ln for text in MARKDOWN for ln in text.split("\n") if ln.startswith("## ") or ln.startswith("# ")]
    assert headings[0].startswith("# Chapter 1 · ")
    order = ["## Theory", "## Practical", "## Discussion", "## Quiz", "## Key points", "## What next",
             "## References"]
    assert [h for h in headings if h in order] == order
    first = MARKDOWN[0]
    for marker in ("**Aim.**", "**Time.**", "**Prerequisites.**", "**Contents.**", "*Theory*", "*Practical*"):
        assert marker in first
    # >= 2 explanatory figures in the theory: a one-line cell calling a schematic, then a caption cell
    cells = NB["cells"]
    theory_end = next(i for i, c in enumerate(cells) if c["cell_type"] == "markdown" and "## Practical" in _src(c))
    figures = [i for i, c in enumerate(cells[:theory_end]) if c["cell_type"] == "code"
               and re.fullmatch(r"(kick_drift_kick|minimum_image|langevin_thermostat)\(\)", _src(c).strip())]
    assert len(figures) >= 2
    for k, i in enumerate(figures, start=1):
        assert _src(cells[i + 1]).startswith(f"**Figure 1.{k}.** "), _src(cells[i + 1])[:40]
    key_points = next(t for t in MARKDOWN if t.startswith("## Key points"))
    assert 3 <= key_points.split("## What next")[0].count("\n* ") <= 5


def test_exercises_sit_after_what_they_practise_and_need_thought():
    headings = re.findall(r"^### Exercise (1\.\d) · (.*)$", "\n".join(MARKDOWN), flags=re.M)
    assert [h[0] for h in headings] == [f"1.{k}" for k in range(1, 8)]
    assert sum(h[1].endswith("(predict, then run)") for h in headings) >= 1
    text = "\n".join(MARKDOWN)
    # the replaced trivial exercises are gone; the new ones do not print their answer above them
    assert "harmonic_period" not in text and "kinetic_temperature(" not in text
    ex15 = text.index("### Exercise 1.5")
    assert "half of $T_0$" not in text[:ex15] and "T0 / 2" not in text[:ex15]
    ex14 = text.index("### Exercise 1.4")
    assert "1e-10" not in text[:ex14 + 800] and "1.602" not in text
    # each exercise is placed in the part it practises
    parts = {"1.1": "### 1. Your own integrator", "1.2": "### 3. A Morse bond", "1.4": "### 4. Lennard-Jones",
             "1.7": "### 4. Lennard-Jones"}
    for label, part in parts.items():
        start = text.index(part)
        assert start < text.index(f"### Exercise {label}"), label


def test_no_provenance_and_no_overloaded_symbols_in_student_text():
    text = "\n".join(MARKDOWN)
    for phrase in ("make bench", "measured on", "MB", "GPU", "not verified", "one core", "this is also how",
                   "shared 2-core", "kernel peaks", "run time"):
        assert phrase not in text, phrase
    # d is the dimension, D_s the diffusion coefficient (D meant both before)
    assert "(N, D)" not in text and "D(N-1)" not in text and "(frames, N, D)" not in text
    assert "2 d\\, D_\\text{s}" in text
    # Langevin is introduced (with its figure) before the explorer uses it
    assert text.index("### A thermostat: Langevin dynamics") < text.index("Langevin (BAOAB, NVT)")


def test_quiz_has_at_least_four_questions_and_is_shown():
    from npsnn_edu.viz.quiz import load_quiz

    questions = load_quiz("01_newtonian_md")
    assert len(questions) >= 4
    assert any('show_quiz("01_newtonian_md")' in _src(c) for c in NB["cells"] if c["cell_type"] == "code")


def test_quiz_answers_agree_with_the_kit():
    from npsnn_edu.exercises.chapter1 import settled_crystal_temperature
    from npsnn_edu.viz.schematics_ch1 import nearest_image

    questions = {q["question"][:40]: q for q in json.loads(QUIZ.read_text())}
    settle = next(q for k, q in questions.items() if "T0 = 0.4" in q["question"])
    low, high = next(a["range"] for a in settle["answers"] if a.get("correct"))
    assert low < settled_crystal_temperature(0.4) < high
    cutoff = next(q for q in questions.values() if "largest cut-off" in q["question"])
    assert next(a["value"] for a in cutoff["answers"] if a.get("correct")) == 0.5
    rng = np.random.default_rng(0)
    for _ in range(20):  # every minimum-image separation lies within half a box
        xi, xj = rng.uniform(0, 3, 3), rng.uniform(0, 3, 3)
        assert np.all(np.abs(nearest_image(xi, xj, [3, 3, 3]) - xi) <= 1.5 + 1e-12)


# ---------------------------------------------------------------- the numbers a classroom run prints
_SKIP = ("### BEGIN SOLUTION", "check_", "show_trajectory", "MDExplorer", "show_quiz", "view\n", "kick_drift_kick",
         "minimum_image()", "langevin_thermostat()")


@pytest.fixture(scope="module", params=["classroom", "fast"])
def run(request):
    """The notebook's own code cells (no exercises, checks, viewers or quiz) executed in one namespace."""
    set_mode(request.param)
    try:
        ns: dict = {}
        for cell in NB["cells"]:
            src = _src(cell)
            if cell["cell_type"] != "code" or (not _only_imports(src) and any(s in src for s in _SKIP)):
                continue
            exec(compile(src, "<notebook cell>", "exec"), ns)
            ns["display"] = lambda *a, **k: None
        ns["mode"] = request.param
        yield ns
    finally:
        set_mode(None)


def test_verlet_is_second_order_and_its_period_is_short(run):
    err = run["max_error"]
    assert 3.8 < err[0.1] / err[0.05] < 4.2 and 3.8 < err[0.05] / err[0.025] < 4.2  # "divides by about 4"
    assert run["measured"] < 2 * np.pi  # "a little shorter than 2 pi / omega"
    assert run["measured"] == pytest.approx(run["verlet_period"], rel=2e-3)
    drift = np.abs(run["traj"].total_energy / run["traj"].total_energy[0] - 1)
    half = len(drift) // 2
    assert drift[half:].max() < 1.5 * drift[:half].max()  # oscillates, no drift


def test_morse_period_grows_with_energy_and_matches_the_exact_one(run):
    scan = run["scan"]
    assert np.all(np.diff(scan["simulated"]) > 0)
    assert np.max(np.abs(scan["simulated"] / scan["exact"] - 1)) < 1e-3
    assert scan["simulated"][0] == pytest.approx(run["small"], rel=0.02)


def test_crystals_settle_at_about_half_of_T0_within_a_picosecond(run):
    settled = run["settled"].set_index("T0")
    for T0, r in run["runs"].items():
        assert r.energy_drift() < 1e-3  # "the total energy stays constant"
        ratio = settled.loc[T0, "ratio T / T0"]
        assert 0.45 < ratio < 0.6, ratio  # "about half of T0"
        t_ps = r.times * run["ARGON"].time_fs / 1000
        early = r.temperature[(t_ps > 0.5) & (t_ps < 1.0)].mean()
        assert abs(early / settled.loc[T0, "T, second half"] - 1) < 0.15  # "within a fraction of a picosecond"
    assert not run["settled"].isna().any().any()


def test_only_the_hotter_run_diffuses(run):
    reports = run["reports"]
    assert reports[1.5].diffusing and reports[1.5].value > 0
    assert not reports[1.0].diffusing and reports[1.0].value == 0.0
    assert reports[1.0].upper_bound < reports[1.5].value
    assert "levels off" in str(reports[1.0]) and "D = " in str(reports[1.5])


def test_liquid_g_of_r_has_its_first_peak_near_the_lj_minimum_and_fits_the_axes(run):
    r, g = run["rdf"]["T0 = 1.5, second half"]
    assert abs(r[np.argmax(g)] - 2 ** (1 / 6)) < 0.1
    assert g[r < 0.8].max() == 0.0
    assert 0.8 < g[-10:].mean() < 1.2
    shells = run["shells"]
    fcc_a = (4 / 0.8442) ** (1 / 3)
    assert shells[0] == pytest.approx(fcc_a / np.sqrt(2), rel=1e-5)
    assert shells[1] == pytest.approx(fcc_a, rel=1e-5)
    from npsnn_edu.viz.md_widgets import rdf_figure

    fig = rdf_figure(run["rdf"], "g(r)", shells=shells)
    top = max(float(np.max(gg)) for _, gg in run["rdf"].values())
    assert fig.layout.yaxis.range[1] == pytest.approx(1.1 * top)


def test_langevin_holds_the_explorer_target_temperature():
    from npsnn_edu.viz.md_widgets import MDExplorer

    ex = MDExplorer("lennard-jones", show_3d=False)
    for target in (0.5, 2.0):  # "a low and a high temperature"
        traj = ex.run(integrator="langevin", temperature=target, n_steps=1000)
        assert traj is not None, ex.status.value
        late = traj.temperature[traj.n_frames // 2:].mean()
        assert late == pytest.approx(target, rel=0.15)  # the target, not half of it
        assert abs(late - target / 2) > 0.2 * target


# -------------------------------------------------------------------------- the new analysis helpers
def test_diffusion_report_on_known_curves():
    t = np.linspace(0, 10, 101)
    line = analysis.diffusion_report(t, 6 * 0.3 * t + 0.1, dim=3)
    assert line.diffusing and line.value == pytest.approx(0.3)
    curve = 0.07 * (1 - np.exp(-5 * t)) - 1e-4 * t  # a solid's MSD: a plateau with a slightly negative slope
    plateau = analysis.diffusion_report(t, curve, dim=3)
    assert not plateau.diffusing and plateau.value == 0.0 and plateau.fit.D < 0
    assert plateau.upper_bound == pytest.approx(curve.max() / (2 * 3 * t[-1]))
    with pytest.raises(InvalidParameterError, match="growth_factor"):
        analysis.diffusion_report(t, t, growth_factor=1.0)


def test_lattice_shells_of_a_simple_cubic_lattice():
    from npsnn_edu.viz.md_widgets import lattice_shells

    grid = np.array([[i, j, k] for i in range(4) for j in range(4) for k in range(4)], dtype=float)
    shells = lattice_shells(grid, [4.0, 4.0, 4.0], 2.0)
    np.testing.assert_allclose(shells, np.sqrt([1, 2, 3]), rtol=1e-6)
    with pytest.raises(ShapeMismatchError):
        lattice_shells(grid[:, :2], [4.0, 4.0, 4.0], 2.0)
