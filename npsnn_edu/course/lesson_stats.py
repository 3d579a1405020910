"""Lesson statistics and the lesson template's limits, read from a notebook file (no kernel, no execution).

What a lecturer asks of a 2-hour lab notebook (``docs/lesson_template.md``): how many words, how many numbers the
student must read in prose, how many explanatory figures, quiz questions and exercises, and how long it takes.
:func:`lesson_stats` counts them; :func:`check_lesson` lists every broken limit (``tests/test_lesson_limits.py``
fails on any); ``python -m npsnn_edu.course.lesson_stats [notebooks...]`` prints one row per notebook.

Counting rules
--------------
* **Words**: whitespace-separated tokens of all markdown cells (headings and references included).
* **Numbers in prose**: in markdown text, inline maths and inline code, a number with a decimal point
  (``2.5``), an exponent (``1e-5``), a ``%`` sign (``37%``) or at least two digits (``108``). Not counted:
  headings, years (``1967``, ``2024``), the References section, the ``**Time.**`` line, labelled cross-references
  (``Chapter 2``, ``Figure 1.2``, ``Exercise 3.1``, ``Section 2.3``, ``Eq. 4``, ``Table 1``, ``Quiz 2``), figure
  captions' labels, link targets and URLs, HTML tags.
* **Code-cell length**: the lines of a code cell from its first to its last non-blank line, blank lines inside
  included; nbgrader/nbval marker lines (``### BEGIN SOLUTION``, ``# NBVAL_...``) are not counted; a cell of only
  imports (and comments) is exempt.
* **Figures**: markdown cells whose first line starts ``**Figure N.k.**`` right after a code cell.
* **Exercises**: headings ``### Exercise N.k · Title``; predict-then-run ones end with ``(predict, then run)``.
* **Estimated time** (minutes): reading at :data:`WORDS_PER_MINUTE` words a minute + the notebook's classroom-mode
  run time (``npsnn_edu/data/notebook_timings.json``) + :data:`MINUTES_PER_EXERCISE` per exercise.
"""
from __future__ import annotations

import ast
import json
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

from ..config import TIMINGS_FILE
from ..errors import DataFormatError
from ..viz import quiz
from ._cli import command_line
from ._cli import parser as cli_parser

__all__ = ["LIMITS", "MINUTES_PER_EXERCISE", "WORDS_PER_MINUTE", "LessonStats", "check_lesson", "code_cell_length",
           "is_import_only", "lesson_stats", "markdown_words", "numbers_in_prose", "main"]

#: Reading speed for dense technical text (words per minute).
WORDS_PER_MINUTE = 100
#: Time a student needs per exercise (minutes): read, think or predict, write, run, read the self-check.
MINUTES_PER_EXERCISE = 10
#: Limits of a lab notebook (going-further notebooks: only the template checks, no word/number/time limits).
LIMITS = {"words": 2500, "numbers": 30, "code_lines": 15, "figures": 2, "exercises": 3, "predict": 1,
          "quiz_questions": 4, "minutes": 120}
#: Template sections, in order: (key, regex on a level-2 heading's text, case-insensitive).
SECTIONS = (("Theory", r"theory\b"), ("Practical", r"practical\b"), ("Discussion", r"discussion\b"),
            ("Quiz", r"quiz\b"), ("Key points", r"key points\b"), ("What next", r"what next\b"))
#: Bold markers of the first markdown cell.
HEADER_MARKERS = ("Aim", "Time", "Prerequisites", "Contents")
#: Provenance that belongs in docs/instructor/, not in the student's text (case-insensitive regexes).
PROVENANCE = (r"\bmake (bench|test)\b", r"python -m benchmarks", r"benchmarks/\w+\.py", r"\bnot verified\b",
              r"\bno GPU (was|is) available", r"\b\d+-core (machine|laptop|server)", r"\bshared \d+-core\b",
              r"\bpeak RSS\b", r"\bmeasured on (a|this|our)\b", r"\bhow the widget is tested\b",
              r"\bon this machine\b", r"\bthis kit's authors\b")

NUMBER_RE = re.compile(r"(?<![\w.])(\d+\.\d+(?:[eE][-+]?\d+)?|\d+[eE][-+]?\d+|\d+(?:\.\d+)?\s?%|\d{2,})(?!\d)")
YEAR_RE = re.compile(r"(19|20)\d\d")
CROSSREF_RE = re.compile(r"\b(chapters?|figures?|fig\.|exercises?|sections?|eqs?\.|equations?|tables?|quiz|"
                         r"questions?|notebooks?|labs?|cells?|steps?)\s+\d+[a-z]?(\.\d+)*[a-z]?", re.I)
LINK_TARGET_RE = re.compile(r"\]\([^)]*\)|<[^>]+>|https?://\S+|\b[\w./-]+\.(ipynb|md|py|json|png|svg)\b")
CAPTION_RE = re.compile(r"^\*\*Figure\s+(\d+[a-z]?)\.(\d+)\.?\*\*")
EXERCISE_RE = re.compile(r"^###\s+Exercise\s+(\d+[a-z]?)\.(\d+)\b(.*)$")
PREDICT_RE = re.compile(r"\(predict, then run\)\s*$", re.I)
QUIZ_CALL_RE = re.compile(r"\bshow_quiz\(\s*['\"]([^'\"]+)['\"]")
TITLE_RE = re.compile(r"^#\s+Chapter\s+(\d+)[a-z]?\b")
MARKER_LINE_RE = re.compile(r"^\s*#+\s*(BEGIN|END)\s+(SOLUTION|HIDDEN TESTS)\b|^\s*#\s*NBVAL_\w+", re.I)
STEM_RE = re.compile(r"^0(\d)([a-z]?)_")


def _source(cell: dict[str, Any]) -> str:
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else str(src)


def read_notebook(path: "str | Path") -> dict[str, Any]:
    """The notebook JSON (nbformat 4). Raises :class:`DataFormatError` for a missing or malformed file."""
    p = Path(path)
    if p.suffix != ".ipynb" or not p.is_file():
        raise DataFormatError(f"{str(p)!r} is not a notebook file; give the path of an existing .ipynb")
    try:
        nb = json.loads(p.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        raise DataFormatError(f"{p.name}: not UTF-8 text; give the path of a Jupyter notebook (.ipynb)") from None
    except json.JSONDecodeError as exc:
        raise DataFormatError(f"{p.name}: not valid notebook JSON ({exc.msg}, line {exc.lineno})") from exc
    if not isinstance(nb, dict) or not isinstance(nb.get("cells"), list):
        raise DataFormatError(f"{p.name}: no 'cells' list; is this an nbformat 4 notebook?")
    return nb


def markdown_words(cells: Sequence[dict[str, Any]]) -> int:
    """Whitespace-separated words of all markdown cells.

    Parameters
    ----------
    cells : sequence of dict
        Notebook cells.

    Returns
    -------
    int
    """
    return sum(len(_source(c).split()) for c in cells if c.get("cell_type") == "markdown")


def _prose_numbers_in_line(line: str) -> list[str]:
    line = LINK_TARGET_RE.sub(" ", line)
    line = CROSSREF_RE.sub(" ", line)
    line = CAPTION_RE.sub(" ", line.strip())
    return [m.group(1) for m in NUMBER_RE.finditer(line) if not YEAR_RE.fullmatch(m.group(1))]


def numbers_in_prose(cells: Sequence[dict[str, Any]]) -> list[tuple[int, str]]:
    """``(cell index, number)`` for every number in prose (counting rule in the module docstring).

    Parameters
    ----------
    cells : sequence of dict
        Notebook cells.

    Returns
    -------
    list of (int, str)
    """
    hits: list[tuple[int, str]] = []
    in_refs = False
    for i, cell in enumerate(cells):
        if cell.get("cell_type") != "markdown":
            continue
        for line in _source(cell).splitlines():
            stripped = line.strip()
            if stripped.startswith("#"):
                in_refs = bool(re.match(r"#+\s*(references|further reading|bibliography)\b", stripped, re.I))
                continue
            if in_refs or stripped.startswith("**Time.**"):
                continue
            hits += [(i, n) for n in _prose_numbers_in_line(line)]
    return hits


def is_import_only(source: str) -> bool:
    """True for a code cell of only ``import``/``from ... import`` statements (and comments/blank lines).

    Parameters
    ----------
    source : str
        Cell source.

    Returns
    -------
    bool
    """
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return False
    return bool(tree.body) and all(isinstance(s, (ast.Import, ast.ImportFrom)) for s in tree.body)


def code_cell_length(source: str) -> int:
    """Lines of a code cell from its first to its last non-blank line, nbgrader/nbval marker lines left out.

    Parameters
    ----------
    source : str
        Cell source.

    Returns
    -------
    int
    """
    lines = [ln for ln in source.splitlines() if not MARKER_LINE_RE.match(ln)]
    while lines and not lines[0].strip():
        lines.pop(0)
    while lines and not lines[-1].strip():
        lines.pop()
    return len(lines)


def _heading_lines(cells: Sequence[dict[str, Any]]) -> list[tuple[int, int, str]]:
    """``(cell index, level, text)`` of every markdown heading."""
    out = []
    for i, c in enumerate(cells):
        if c.get("cell_type") != "markdown":
            continue
        fenced = False
        for line in _source(c).splitlines():
            if line.strip().startswith("```"):
                fenced = not fenced
            m = re.match(r"^(#{1,6})\s+(.*\S)\s*$", line)
            if m and not fenced:
                out.append((i, len(m.group(1)), m.group(2)))
    return out


@dataclass
class LessonStats:
    """What :func:`lesson_stats` counted in one notebook (times in minutes).

    Parameters
    ----------
    path : Path
        The notebook.
    kind : {"lab", "going-further"}
        Notebook kind.
    chapter : int or None
        Chapter number.
    words : int, default 0
        Words of prose.
    numbers : list of (int, str)
        Numbers in prose (cell, number).
    figures : list of (int, str)
        Figure captions after a code cell (cell, "N.k").
    loose_captions : list of int
        Captions not right after a code cell.
    exercises : list of (int, str)
        Exercise headings (cell, heading).
    predict : list of (int, str)
        "Predict" prompts.
    long_code_cells : list of (int, int)
        Code cells over the limit (cell, lines).
    sections : dict of str to list of int
        Cells of each required level-2 heading.
    h2 : list of (int, str)
        Every level-2 heading.
    header : dict of str to bool
        Header fields present in the first cell.
    title_chapter : int or None, default None
        Chapter number in the title.
    quiz_calls : list of (int, str)
        ``show_quiz`` calls (cell, quiz name).
    quiz_questions : int or None, default None
        Questions of the quiz.
    quiz_error : str, default ""
        Why the quiz could not be loaded.
    provenance : list of (int, str)
        Provenance lines of shipped results.
    running_seconds : float or None, default None
        Measured run time (s).
    """

    path: Path
    kind: str                                   # "lab" or "going-further"
    chapter: "int | None"
    words: int = 0
    numbers: list[tuple[int, str]] = field(default_factory=list)
    figures: list[tuple[int, str]] = field(default_factory=list)        # (cell, "N.k") captions after a code cell
    loose_captions: list[int] = field(default_factory=list)             # captions NOT right after a code cell
    exercises: list[tuple[int, str]] = field(default_factory=list)      # (cell, heading)
    predict: list[tuple[int, str]] = field(default_factory=list)
    long_code_cells: list[tuple[int, int]] = field(default_factory=list)   # (cell, lines)
    sections: dict[str, list[int]] = field(default_factory=dict)        # key -> cells of its level-2 headings
    h2: list[tuple[int, str]] = field(default_factory=list)             # every level-2 heading (cell, text)
    header: dict[str, bool] = field(default_factory=dict)               # Aim/Time/... present in the first cell
    title_chapter: "int | None" = None
    quiz_calls: list[tuple[int, str]] = field(default_factory=list)     # (cell, quiz name)
    quiz_questions: "int | None" = None
    quiz_error: str = ""
    provenance: list[tuple[int, str]] = field(default_factory=list)
    running_seconds: "float | None" = None

    @property
    def name(self) -> str:
        """The notebook's stem."""
        return self.path.stem

    @property
    def reading_minutes(self) -> float:
        """Reading time of the prose (minutes)."""
        return self.words / WORDS_PER_MINUTE

    @property
    def exercise_minutes(self) -> float:
        """Time budgeted for the exercises (minutes)."""
        return MINUTES_PER_EXERCISE * len(self.exercises)

    @property
    def running_minutes(self) -> float:
        """Measured run time (minutes; 0 when unknown)."""
        return (self.running_seconds or 0.0) / 60.0

    @property
    def total_minutes(self) -> float:
        """Reading, exercise and running time together (minutes)."""
        return self.reading_minutes + self.running_minutes + self.exercise_minutes


def _classroom_seconds(stem: str, timings: "dict[str, Any] | None") -> "float | None":
    if timings is None:
        try:
            timings = json.loads(Path(TIMINGS_FILE).read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError):
            return None
    entry = timings.get("notebooks", {}).get(stem, {}).get("classroom", {})
    seconds = entry.get("seconds")
    return float(seconds) if isinstance(seconds, (int, float)) else None


def lesson_stats(path: "str | Path", *, timings: "dict[str, Any] | None" = None,
                 quiz_loader: Any = None) -> LessonStats:
    """Count what the lesson template asks for in the notebook at ``path``.

    ``timings`` is the content of ``notebook_timings.json`` (read from the package when None); ``quiz_loader``
    maps a quiz name to its questions (default: :func:`npsnn_edu.viz.quiz.load_quiz`).

    Parameters
    ----------
    path : str or Path
        The notebook.
    timings : dict or None, default None
        Content of ``notebook_timings.json`` (None: the package's).
    quiz_loader : callable or None, default None
        Quiz name to questions (None: :func:`npsnn_edu.viz.quiz.load_quiz`).

    Returns
    -------
    LessonStats
    """
    p = Path(path)
    cells = read_notebook(p)["cells"]
    m = STEM_RE.match(p.name)
    kind = "going-further" if (m and m.group(2)) else "lab"
    stats = LessonStats(path=p, kind=kind, chapter=int(m.group(1)) if m else None)
    stats.words = markdown_words(cells)
    stats.numbers = numbers_in_prose(cells)
    first_md = next((_source(c) for c in cells if c.get("cell_type") == "markdown"), "")
    t = TITLE_RE.match(first_md.strip().splitlines()[0] if first_md.strip() else "")
    stats.title_chapter = int(t.group(1)) if t else None
    stats.header = {k: bool(re.search(rf"\*\*{re.escape(k)}\.?\*\*", first_md)) for k in HEADER_MARKERS}
    for key, _ in SECTIONS:
        stats.sections[key] = []
    for i, level, text in _heading_lines(cells):
        if level == 2:
            stats.h2.append((i, text))
            for key, pattern in SECTIONS:
                if re.match(pattern, text, re.I):
                    stats.sections[key].append(i)
        if level == 3:
            e = EXERCISE_RE.match("### " + text)
            if e:
                stats.exercises.append((i, text))
                if PREDICT_RE.search(text):
                    stats.predict.append((i, text))
    for i, c in enumerate(cells):
        src = _source(c)
        if c.get("cell_type") == "markdown":
            cap = CAPTION_RE.match(src.strip())
            if cap:
                if i > 0 and cells[i - 1].get("cell_type") == "code":
                    stats.figures.append((i, f"{cap.group(1)}.{cap.group(2)}"))
                else:
                    stats.loose_captions.append(i)
            for pattern in PROVENANCE:
                for hit in re.finditer(pattern, src, re.I):
                    stats.provenance.append((i, hit.group(0)))
        elif c.get("cell_type") == "code":
            n = code_cell_length(src)
            if n > LIMITS["code_lines"] and not is_import_only(src):
                stats.long_code_cells.append((i, n))
            stats.quiz_calls += [(i, q) for q in QUIZ_CALL_RE.findall(src)]
    if stats.quiz_calls:
        if quiz_loader is None:
            quiz_loader = quiz.load_quiz  # looked up at call time (tests replace it)
        try:
            stats.quiz_questions = len(quiz_loader(stats.quiz_calls[0][1]))
        except Exception as exc:  # noqa: BLE001 - reported as a broken limit, with the loader's message
            stats.quiz_error = f"{type(exc).__name__}: {exc}"
    stats.running_seconds = _classroom_seconds(p.stem, timings)
    return stats


def _section_of(stats: LessonStats, cell: int) -> "str | None":
    """The template section (key) of the last level-2 heading in a cell before ``cell``; None if another heading."""
    before = [(c, text) for c, text in stats.h2 if c < cell]
    if not before:
        return None
    text = before[-1][1]
    return next((key for key, pattern in SECTIONS if re.match(pattern, text, re.I)), None)


def check_lesson(stats: LessonStats) -> list[str]:
    """Every broken limit of the lesson template, each naming the notebook, the limit and where to look.

    Parameters
    ----------
    stats : LessonStats
        Counts of one notebook.

    Returns
    -------
    list of str
    """
    name = stats.path.name
    lab = stats.kind == "lab"
    problems: list[str] = []

    def bad(msg: str) -> None:
        problems.append(f"{name}: {msg}")

    if lab and stats.words > LIMITS["words"]:
        bad(f"{stats.words} markdown words > {LIMITS['words']} (move research material to a going-further notebook)")
    if lab and len(stats.numbers) > LIMITS["numbers"]:
        by_cell: dict[int, list[str]] = {}
        for cell, num in stats.numbers:
            by_cell.setdefault(cell, []).append(num)
        worst = sorted(by_cell.items(), key=lambda kv: -len(kv[1]))[:5]
        bad(f"{len(stats.numbers)} numbers in prose > {LIMITS['numbers']}; most in cells "
            + "; ".join(f"{c}: {', '.join(v[:8])}" for c, v in worst))
    for cell, n in stats.long_code_cells:
        bad(f"code cell {cell} has {n} lines > {LIMITS['code_lines']} (split it or move logic into npsnn_edu)")
    if stats.title_chapter is None:
        bad("the first markdown cell must start with '# Chapter N · Title'")
    elif stats.chapter is not None and stats.title_chapter != stats.chapter:
        bad(f"the title says Chapter {stats.title_chapter} but the file name says chapter {stats.chapter}")
    for key, present in stats.header.items():
        if not present:
            bad(f"the first markdown cell lacks '**{key}.**'")
    for key, _ in SECTIONS:
        if not stats.sections.get(key):
            bad(f"no '## {key}' section")
    order = [stats.sections[k][0] for k, _ in SECTIONS if stats.sections.get(k)]
    if len(order) == len(SECTIONS) and order != sorted(order):
        bad("sections out of order; the template's order is " + " -> ".join(k for k, _ in SECTIONS))
    in_theory = [f for f in stats.figures if _section_of(stats, f[0]) == "Theory"]
    if len(in_theory) < LIMITS["figures"]:
        bad(f"{len(in_theory)} captioned figure(s) in the Theory section(s) < {LIMITS['figures']} (a one-line code "
            f"cell that draws a schematic, then a markdown cell starting '**Figure N.k.** ...')")
    for cell in stats.loose_captions:
        bad(f"the caption in cell {cell} does not follow a code cell (the figure's cell must come right before)")
    n_ex = LIMITS["exercises"] if lab else 1
    if len(stats.exercises) < n_ex:
        bad(f"{len(stats.exercises)} '### Exercise N.k · Title' heading(s) < {n_ex}")
    if lab and len(stats.predict) < LIMITS["predict"]:
        bad("no exercise heading ends with '(predict, then run)'")
    if not stats.quiz_calls:
        bad(f"no show_quiz({stats.name!r}) call")
    else:
        cell, qname = stats.quiz_calls[0]
        if qname != stats.name:
            bad(f"cell {cell} calls show_quiz({qname!r}); the quiz of this notebook is {stats.name!r}")
        if stats.sections.get("Quiz") and _section_of(stats, cell) != "Quiz":
            bad(f"the show_quiz call (cell {cell}) is not in the '## Quiz' section")
        if stats.quiz_error:
            bad(f"its quiz does not load: {stats.quiz_error}")
        elif stats.quiz_questions is not None and stats.quiz_questions < LIMITS["quiz_questions"]:
            bad(f"its quiz has {stats.quiz_questions} question(s) < {LIMITS['quiz_questions']}")
    for cell, text in stats.provenance:
        bad(f"provenance in student text, cell {cell}: {text!r} (move it to docs/instructor/)")
    if lab and stats.total_minutes > LIMITS["minutes"]:
        bad(f"estimated {stats.total_minutes:.0f} min > {LIMITS['minutes']} min (reading {stats.reading_minutes:.0f}"
            f" + running {stats.running_minutes:.0f} + exercises {stats.exercise_minutes:.0f})")
    return problems


def _row(s: LessonStats) -> list[str]:
    run = f"{s.running_minutes:.1f}" if s.running_seconds is not None else "n/a"
    return [s.name, s.kind, str(s.words), str(len(s.numbers)), str(len(s.figures)),
            "-" if s.quiz_questions is None else str(s.quiz_questions), f"{len(s.exercises)} ({len(s.predict)})",
            f"{s.reading_minutes:.0f}", run, f"{s.exercise_minutes:.0f}", f"{s.total_minutes:.0f}"]


HEADER = ["notebook", "kind", "words", "numbers in prose", "figures", "quiz questions",
          "exercises (predict, then run)", "reading min", "running min", "exercise min", "total min"]


def format_table(rows: list[LessonStats], markdown: bool = False) -> str:
    """One row per notebook; ``markdown=True`` gives a Markdown table."""
    data = [HEADER] + [_row(s) for s in rows]
    if markdown:
        lines = ["| " + " | ".join(data[0]) + " |", "|" + "|".join("---" for _ in data[0]) + "|"]
        return "\n".join(lines + ["| " + " | ".join(r) + " |" for r in data[1:]])
    widths = [max(len(r[k]) for r in data) for k in range(len(HEADER))]
    return "\n".join("  ".join(v.ljust(w) for v, w in zip(r, widths)).rstrip() for r in data)


@command_line("``python -m npsnn_edu.course.lesson_stats [--markdown] [--check] [notebooks...]`` (default: "
              "notebooks/0*.ipynb).")
def main(argv: "Sequence[str] | None" = None) -> int:
    parser = cli_parser("npsnn_edu.course.lesson_stats", __doc__.split("\n")[0])
    parser.add_argument("notebooks", nargs="*", help="notebook files (default: notebooks/0*.ipynb under the cwd)")
    parser.add_argument("--markdown", action="store_true", help="print a Markdown table")
    parser.add_argument("--check", action="store_true", help="also list broken limits; exit 1 if any")
    args = parser.parse_args(argv)
    paths = [Path(p) for p in args.notebooks] or sorted(Path("notebooks").glob("0*.ipynb"))
    if not paths:
        parser.error("no notebooks given and none found under ./notebooks")
    rows = [lesson_stats(p) for p in paths]
    print(format_table(rows, markdown=args.markdown))
    print(f"\nTime = words / {WORDS_PER_MINUTE} per min + classroom run time (npsnn_edu/data/notebook_timings.json) + "
          f"{MINUTES_PER_EXERCISE} min per exercise.")
    if args.check:
        problems = [p for s in rows for p in check_lesson(s)]
        print("\n".join(["", "Broken limits:"] + [f"  - {p}" for p in problems]) if problems else "\nAll limits hold.")
        return 1 if problems else 0
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
