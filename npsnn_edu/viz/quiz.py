"""Chapter quizzes: questions with immediate feedback, rendered by jupyterquiz.

Each notebook's questions live in ``npsnn_edu/data/quizzes/<notebook stem>.json`` in jupyterquiz's JSON format: a
list of question dicts::

    [{"question": "Which integrator ...?", "type": "multiple_choice",
      "answers": [{"answer": "velocity Verlet", "correct": true, "feedback": "Yes: ..."},
                  {"answer": "forward Euler", "correct": false, "feedback": "No: its energy ..."}]},
     {"question": "How many ...?", "type": "numeric", "precision": 3,
      "answers": [{"type": "value", "value": 27, "correct": true, "feedback": "Right: ..."},
                  {"type": "range", "range": [0, 27], "correct": false, "feedback": "Too few: ..."},
                  {"type": "default", "feedback": "Count the images ..."}]}]

A notebook shows them with ``show_quiz("01_newtonian_md")``. The file is validated first (a malformed file raises
:class:`~npsnn_edu.errors.DataFormatError` naming the question and what to change; an unknown name raises
:class:`~npsnn_edu.errors.UnknownNameError` listing the shipped quizzes). The output is ONE ``text/html`` bundle whose
``<script>`` is inline (jupyterquiz's own JavaScript, no network), so it runs in JupyterLab 4 (a trusted output, i.e. a
cell the student ran) and on a static site that keeps HTML outputs; a ``text/plain`` version lists the questions and
options for viewers without JavaScript (it never marks the correct answer).
"""
from __future__ import annotations

import hashlib
import importlib.resources
import itertools
import json
import math
import numbers
import re
from pathlib import Path
from string import Template
from typing import Any, ClassVar

from jupyterquiz.dynamic.renderer import build_styles, render_div

from ..errors import DataFormatError, InvalidParameterError, unknown_name
from ..validation import Boolean, Constraints, Rule, validate_params

__all__ = ["QuizView", "list_quizzes", "load_quiz", "quiz_html", "quiz_text", "show_quiz", "validate_quiz"]

QUESTION_TYPES = ("multiple_choice", "many_choice", "numeric")
_QUESTION_KEYS = {"question", "type", "answers", "precision", "code", "answer_cols"}
_CHOICE_ANSWER_KEYS = {"answer", "correct", "feedback", "code"}
_NUMERIC_ANSWER_KEYS = {"type", "value", "range", "correct", "feedback"}
_NUMERIC_ANSWER_TYPES = ("value", "range", "default")
_NAME_RE = re.compile(r"^[A-Za-z0-9_.-]+$")
_counter = itertools.count()


def _quiz_dir() -> Path:
    return Path(str(importlib.resources.files("npsnn_edu").joinpath("data", "quizzes")))


def list_quizzes() -> list[str]:
    """Names (notebook stems) of the quizzes shipped in ``npsnn_edu/data/quizzes``, sorted."""
    folder = _quiz_dir()
    if not folder.is_dir():
        return []
    return sorted(p.stem for p in folder.glob("*.json"))


def _check_max_width(name: str, max_width: Any) -> int:
    """The quiz box width: an integer number of CSS pixels in [200, 2000]."""
    if isinstance(max_width, bool) or not (isinstance(max_width, numbers.Integral) and 200 <= max_width <= 2000):
        raise InvalidParameterError(f"{name} is the quiz width in CSS pixels: give an integer in [200, 2000], "
                                    f"got {max_width!r}")
    return int(max_width)


def _is_number(x: Any) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(float(x))


def _nonempty_str(x: Any) -> bool:
    return isinstance(x, str) and x.strip() != ""


def _check_feedback(a: dict[str, Any], where: str, why: str) -> None:
    if not _nonempty_str(a.get("feedback")):
        raise DataFormatError(f"{where}: give a non-empty 'feedback' saying why this {why} is right or wrong")
    if "$" in a["feedback"] or "\\(" in a["feedback"]:
        raise DataFormatError(f"{where}: write maths in 'feedback' as Unicode text (e.g. ω Δt < 2), not LaTeX: "
                              f"feedback appears on a click, after the page typeset its maths ($...$ is fine in "
                              f"'question' and 'answer')")


def validate_quiz(questions: Any, source: str = "quiz") -> list[dict[str, Any]]:
    """Check a quiz (the parsed JSON) and return it unchanged.

    Rules (each break raises :class:`DataFormatError` naming ``source``, the question number and what to change):
    a non-empty list of question dicts; ``question`` a non-empty string; ``type`` one of ``multiple_choice``,
    ``many_choice``, ``numeric``; only jupyterquiz's keys (a typo such as ``"feedbak"`` is an error); ``answers`` a
    list. Choice questions: at least two answers, each with a string ``answer``, a boolean ``correct`` and a non-empty
    ``feedback``; answers distinct; ``multiple_choice`` has exactly one correct answer, ``many_choice`` at least one.
    Numeric questions: answers of ``type`` ``value`` (a finite number ``value``), ``range`` (``[low, high)`` with
    low < high) or ``default`` (what any other input gets); every answer has a non-empty ``feedback``; at least one
    ``value``/``range`` answer is correct; exactly one ``default`` answer, so a wrong number is always explained;
    ``precision`` (significant digits compared) an integer >= 1 when given. Feedback holds no LaTeX (``$``,
    ``\\(``): it is created on a click, after JupyterLab typeset the output, so write its maths in Unicode.

    Parameters
    ----------
    questions : object
        Parsed JSON.
    source : str, default "quiz"
        Name used in error messages.

    Returns
    -------
    list of dict

    Raises
    ------
    DataFormatError
        A broken rule.
    """
    if not isinstance(questions, list) or not questions:
        raise DataFormatError(f"{source}: a quiz must be a non-empty JSON list of question objects, got "
                              f"{type(questions).__name__}; write [{{\"question\": ..., \"type\": ..., "
                              f"\"answers\": [...]}}, ...]")
    for number, q in enumerate(questions, start=1):
        where = f"{source}, question {number}"
        if not isinstance(q, dict):
            raise DataFormatError(f"{where}: must be a JSON object with 'question', 'type' and 'answers', "
                                  f"got {type(q).__name__}")
        unknown = sorted(set(q) - _QUESTION_KEYS)
        if unknown:
            raise DataFormatError(f"{where}: unknown key(s) {unknown}; allowed: {sorted(_QUESTION_KEYS)}")
        if not _nonempty_str(q.get("question")):
            raise DataFormatError(f"{where}: 'question' must be a non-empty string")
        qtype = q.get("type")
        if qtype not in QUESTION_TYPES:
            raise DataFormatError(f"{where}: 'type' is {qtype!r}; use one of {list(QUESTION_TYPES)}")
        answers = q.get("answers")
        if not isinstance(answers, list) or not answers:
            raise DataFormatError(f"{where}: 'answers' must be a non-empty list of answer objects")
        if not all(isinstance(a, dict) for a in answers):
            raise DataFormatError(f"{where}: every entry of 'answers' must be a JSON object")
        if "precision" in q and not (isinstance(q["precision"], int) and not isinstance(q["precision"], bool)
                                     and q["precision"] >= 1):
            raise DataFormatError(f"{where}: 'precision' must be an integer >= 1 (significant digits compared)")
        if qtype == "numeric":
            _validate_numeric(answers, where)
        else:
            _validate_choice(answers, where, qtype)
    return questions


def _validate_choice(answers: list[dict[str, Any]], where: str, qtype: str) -> None:
    if len(answers) < 2:
        raise DataFormatError(f"{where}: a choice question needs at least two answers (one correct, one or more "
                              f"plausible wrong ones)")
    seen: set[str] = set()
    for k, a in enumerate(answers, start=1):
        unknown = sorted(set(a) - _CHOICE_ANSWER_KEYS)
        if unknown:
            raise DataFormatError(f"{where}, answer {k}: unknown key(s) {unknown}; allowed: "
                                  f"{sorted(_CHOICE_ANSWER_KEYS)}")
        if not _nonempty_str(a.get("answer")):
            raise DataFormatError(f"{where}, answer {k}: 'answer' must be a non-empty string (write numbers as "
                                  f"text, e.g. \"0.5\")")
        if not isinstance(a.get("correct"), bool):
            raise DataFormatError(f"{where}, answer {k}: 'correct' must be true or false")
        _check_feedback(a, f"{where}, answer {k}", "answer")
        text = a["answer"].strip()
        if text in seen:
            raise DataFormatError(f"{where}, answer {k}: the answer {text!r} appears twice; make answers distinct")
        seen.add(text)
    n_correct = sum(a["correct"] for a in answers)
    if qtype == "multiple_choice" and n_correct != 1:
        raise DataFormatError(f"{where}: a multiple_choice question needs exactly one correct answer, found "
                              f"{n_correct}; mark one answer \"correct\": true (or use type \"many_choice\")")
    if qtype == "many_choice" and n_correct < 1:
        raise DataFormatError(f"{where}: a many_choice question needs at least one correct answer, found none")


def _validate_numeric(answers: list[dict[str, Any]], where: str) -> None:
    n_default = 0
    n_correct = 0
    for k, a in enumerate(answers, start=1):
        unknown = sorted(set(a) - _NUMERIC_ANSWER_KEYS)
        if unknown:
            raise DataFormatError(f"{where}, answer {k}: unknown key(s) {unknown}; allowed: "
                                  f"{sorted(_NUMERIC_ANSWER_KEYS)}")
        atype = a.get("type")
        if atype not in _NUMERIC_ANSWER_TYPES:
            raise DataFormatError(f"{where}, answer {k}: a numeric answer's 'type' is {atype!r}; use one of "
                                  f"{list(_NUMERIC_ANSWER_TYPES)}")
        _check_feedback(a, f"{where}, answer {k}", "input")
        if atype == "default":
            n_default += 1
            if "value" in a or "range" in a or a.get("correct", False):
                raise DataFormatError(f"{where}, answer {k}: a 'default' answer takes only a 'feedback' (it is "
                                      f"what any other input gets, never correct)")
            continue
        if not isinstance(a.get("correct"), bool):
            raise DataFormatError(f"{where}, answer {k}: 'correct' must be true or false")
        if atype == "value":
            if not _is_number(a.get("value")) or "range" in a:
                raise DataFormatError(f"{where}, answer {k}: a 'value' answer needs a finite number 'value' "
                                      f"(and no 'range')")
        else:
            r = a.get("range")
            if (not isinstance(r, list) or len(r) != 2 or not all(_is_number(x) for x in r) or not r[0] < r[1]
                    or "value" in a):
                raise DataFormatError(f"{where}, answer {k}: a 'range' answer needs 'range': [low, high] with "
                                      f"finite numbers, low < high (the interval is [low, high))")
        n_correct += bool(a["correct"])
    if n_correct < 1:
        raise DataFormatError(f"{where}: a numeric question needs at least one 'value' or 'range' answer with "
                              f"\"correct\": true")
    if n_default != 1:
        raise DataFormatError(f"{where}: a numeric question needs exactly one {{\"type\": \"default\", "
                              f"\"feedback\": ...}} answer (found {n_default}) so that any other number gets a hint")


def load_quiz(name: "str | Path") -> list[dict[str, Any]]:
    """The validated questions of a shipped quiz (``name`` = notebook stem, e.g. ``"01_newtonian_md"``) or of a
    JSON file (a ``Path``, or a string ending in ``.json``).

    Raises :class:`UnknownNameError` (listing the shipped quizzes) for an unknown name, :class:`DataFormatError` for
    a file that is not valid JSON or breaks a rule of :func:`validate_quiz`.

    Parameters
    ----------
    name : str or Path
        Notebook stem or JSON file.

    Returns
    -------
    list of dict

    Raises
    ------
    UnknownNameError
        No shipped quiz of that name.
    DataFormatError
        Invalid JSON or a broken rule.
    """
    if isinstance(name, Path) or (isinstance(name, str) and name.endswith(".json")):
        path = Path(name)
        if not path.is_file():
            raise DataFormatError(f"quiz file {str(path)!r} does not exist; give the path of a JSON quiz file or the "
                                  f"name of a shipped quiz ({', '.join(list_quizzes()) or 'none shipped'})")
    else:
        if not isinstance(name, str) or not _NAME_RE.match(name):
            raise InvalidParameterError(f"a quiz name is a notebook stem such as '01_newtonian_md', got {name!r}")
        path = _quiz_dir() / f"{name}.json"
        if not path.is_file():
            raise unknown_name("quiz", name, list_quizzes() or ["(no quiz shipped yet)"])
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        raise DataFormatError(f"{path.name}: not UTF-8 text; a quiz is a JSON file (see validate_quiz)") from None
    except json.JSONDecodeError as exc:
        raise DataFormatError(f"{path.name}: not valid JSON ({exc.msg} at line {exc.lineno}, column {exc.colno}); "
                              f"fix the file's syntax") from exc
    return validate_quiz(data, source=path.name)


def _div_id(questions: list[dict[str, Any]]) -> str:
    """A deterministic element id (a valid JavaScript identifier: jupyterquiz refers to it by name)."""
    digest = hashlib.sha1(json.dumps(questions, sort_keys=True).encode("utf-8")).hexdigest()[:10]
    return f"npsnnquiz{digest}n{next(_counter)}"


def _script_safe(text: str) -> str:
    """JSON text that can sit inside an inline <script> (no '</script>' or '<!--' can close or confuse it)."""
    return text.replace("</", "<\\/").replace("<!--", "<\\!--")


_CDN_LOAD = re.compile(r"console\.log\('WARNING: Trying to force load MathJax 3'\);.*?"
                       r"document\.head\.appendChild\(script\);\s*\}\)\(\);", re.S)


def _offline(library: str) -> str:
    """jupyterquiz's JavaScript without its fallback that loads MathJax from a CDN (JupyterLab 4 exposes a MathJax
    without ``typeset``, which triggers it): the kit never touches the network at run time. JupyterLab typesets the
    question and answer text itself when it renders the output."""
    patched, n = _CDN_LOAD.subn("/* npsnn_edu: no MathJax download (offline) */", library)
    if n == 0 or "script.src" in patched or "cdn.jsdelivr" in patched:
        raise RuntimeError("jupyterquiz's JavaScript changed: the offline patch of npsnn_edu.viz.quiz no longer "
                           "applies; pin jupyterquiz==2.9.6.4 (constraints.txt) or update _offline()")
    return patched


def quiz_html(questions: list[dict[str, Any]], *, shuffle_answers: bool = True, max_width: int = 600) -> str:
    """One self-contained HTML fragment that renders ``questions`` with jupyterquiz: the container ``div``, its
    ``<style>`` and one inline ``<script>`` holding the questions and jupyterquiz's JavaScript (no network).

    ``max_width`` is the width of the quiz box in CSS pixels; ``shuffle_answers`` shuffles the options each time
    the output is rendered (in the browser).

    Parameters
    ----------
    questions : list of dict
        Validated questions.
    shuffle_answers : bool, default True
        Shuffle the options at each rendering.
    max_width : int, default 600
        Width of the quiz box (CSS px).

    Returns
    -------
    str
    """
    max_width = _check_max_width("max_width", max_width)

    div_id = _div_id(questions)
    colors = {  # jupyterquiz's default palette
        "--jq-multiple-choice-bg": "#392061", "--jq-mc-button-bg": "#fafafa", "--jq-mc-button-border": "#e0e0e0e0",
        "--jq-mc-button-inset-shadow": "#555555", "--jq-many-choice-bg": "#f75c03ff", "--jq-numeric-bg": "#392061ff",
        "--jq-numeric-input-bg": "#c0c0c0", "--jq-numeric-input-label": "#101010",
        "--jq-numeric-input-shadow": "#999999", "--jq-string-bg": "#4c1a57", "--jq-incorrect-color": "#c80202",
        "--jq-correct-color": "#009113", "--jq-text-color": "#fafafa", "--jq-link-color": "#9abafa",
    }
    div = render_div(div_id, False, shuffle_answers, False, 1_000_000, max_width, 10, "left") + "</div>"
    styles = build_styles(div_id, colors)
    js_dir = importlib.resources.files("jupyterquiz").joinpath("js")
    library = "".join(f.read_text(encoding="utf-8") for f in sorted(js_dir.iterdir(), key=lambda f: f.name)
                      if f.name.endswith(".js"))
    library = _offline(library)
    suffix = Template(js_dir.joinpath("static_suffix.js.tpl").read_text(encoding="utf-8")).substitute(div_id=div_id)
    script = (f"var questions{div_id} = {_script_safe(json.dumps(questions))};\n{{\n{library}\n{suffix}\n}}\n")
    return f'{div}\n{styles}\n<script type="text/javascript">\n{script}</script>\n'


def quiz_text(questions: list[dict[str, Any]]) -> str:
    """A plain-text version (questions and options, never which answer is correct) for viewers without JavaScript.

    Parameters
    ----------
    questions : list of dict
        Validated questions.

    Returns
    -------
    str
    """
    lines = []
    for number, q in enumerate(questions, start=1):
        lines.append(f"Q{number}. {q['question']}")
        if q["type"] == "numeric":
            lines.append("    (answer with a number)")
        else:
            for letter, a in zip("abcdefghijklmnopqrstuvwxyz", q["answers"]):
                lines.append(f"    {letter}) {a['answer']}")
    return "\n".join(lines)


class QuizView:
    """What a notebook displays: ``text/html`` (jupyterquiz, inline script) and ``text/plain`` (the questions).

    Parameters
    ----------
    questions : list of dict
        Validated questions (:func:`validate_quiz`).
    shuffle_answers : bool, default True
        Shuffle the options at each rendering.
    max_width : int, default 600
        Width of the quiz box (CSS px).

    Raises
    ------
    DataFormatError
        Malformed questions (the message names the question and the key to fix).
    InvalidParameterError
        ``shuffle_answers`` not True/False, ``max_width`` not an integer in [200, 2000].
    """

    _parameter_constraints: ClassVar[Constraints] = {
        "questions": Rule(lambda name, questions: validate_quiz(questions), invalid=[]),
        "shuffle_answers": Boolean(),
        "max_width": Rule(_check_max_width, invalid=100),
    }

    def __init__(self, questions: list[dict[str, Any]], *, shuffle_answers: bool = True, max_width: int = 600):
        p = validate_params(self._parameter_constraints, {"questions": questions, "shuffle_answers": shuffle_answers,
                                                          "max_width": max_width})
        self.questions, self.shuffle_answers, self.max_width = p["questions"], p["shuffle_answers"], p["max_width"]

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, str]:
        return {"text/html": quiz_html(self.questions, shuffle_answers=self.shuffle_answers,
                                       max_width=self.max_width),
                "text/plain": quiz_text(self.questions)}

    def __repr__(self) -> str:
        return quiz_text(self.questions)


def show_quiz(name: "str | Path", *, shuffle_answers: bool = True, max_width: int = 600) -> None:
    """Show the quiz of notebook ``name`` (its stem, e.g. ``"01_newtonian_md"``, or a JSON file's path) with
    immediate feedback.

    Click an option (or type a number and press Enter) to see whether it is right and why. Raises
    :class:`UnknownNameError` listing the shipped quizzes when ``name`` has none.

    Parameters
    ----------
    name : str or Path
        Notebook stem or JSON file.
    shuffle_answers : bool, default True
        Shuffle the options at each rendering.
    max_width : int, default 600
        Width of the quiz box (CSS px).

    Raises
    ------
    UnknownNameError
        No shipped quiz of that name.
    DataFormatError
        A broken quiz file.
    """
    from IPython.display import display

    display(QuizView(load_quiz(name), shuffle_answers=shuffle_answers, max_width=max_width))
