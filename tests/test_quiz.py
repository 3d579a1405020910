"""Chapter quizzes (npsnn_edu.viz.quiz): loading, validation with typed errors, the HTML/text output, and every
shipped quiz file (valid; each lab notebook has one with >= 4 questions)."""
from __future__ import annotations

import copy
import json
import re
from pathlib import Path

import pytest

from npsnn_edu.errors import DataFormatError, InvalidParameterError, UnknownNameError
from npsnn_edu.viz import quiz as quizmod
from npsnn_edu.viz.quiz import QuizView, list_quizzes, load_quiz, quiz_html, quiz_text, show_quiz, validate_quiz

REPO = Path(__file__).resolve().parents[1]
QUIZ_DIR = REPO / "npsnn_edu" / "data" / "quizzes"
LAB_NOTEBOOKS = sorted(REPO.glob("notebooks/0[1-9]_*.ipynb"))
SHIPPED = sorted(QUIZ_DIR.glob("*.json"))

GOOD = [
    {"question": "Which integrator conserves energy over long runs?", "type": "multiple_choice",
     "answers": [{"answer": "velocity Verlet", "correct": True, "feedback": "Yes: it is symplectic."},
                 {"answer": "forward Euler", "correct": False, "feedback": "No: its energy grows every step."}]},
    {"question": "How many neighbour images does the minimum-image rule keep per pair?", "type": "numeric",
     "precision": 2,
     "answers": [{"type": "value", "value": 1, "correct": True, "feedback": "Right: only the nearest image."},
                 {"type": "range", "range": [2, 28], "correct": False, "feedback": "Too many: only the nearest."},
                 {"type": "default", "feedback": "Think of the nearest copy of the other atom."}]},
]


def _write(tmp_path: Path, data: object, name: str = "quiz.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(data) if not isinstance(data, str) else data, encoding="utf-8")
    return path


def test_a_valid_file_loads_unchanged(tmp_path):
    assert load_quiz(_write(tmp_path, GOOD)) == GOOD
    assert load_quiz(str(_write(tmp_path, GOOD, "other.json"))) == GOOD


def _broken(mutate):
    data = copy.deepcopy(GOOD)
    mutate(data)
    return data


BROKEN = {
    "empty list": ([], "non-empty JSON list"),
    "not a list": ({"question": "x"}, "non-empty JSON list"),
    "question not an object": (["text"], "question 1: must be a JSON object"),
    "missing question text": (_broken(lambda d: d[0].pop("question")), "question 1: 'question' must be"),
    "unknown type": (_broken(lambda d: d[0].update(type="essay")), "'type' is 'essay'"),
    "typo key": (_broken(lambda d: d[0].update(feedbak="x")), "unknown key(s) ['feedbak']"),
    "no answers": (_broken(lambda d: d[0].update(answers=[])), "'answers' must be a non-empty list"),
    "two correct": (_broken(lambda d: d[0]["answers"][1].update(correct=True)), "correct answer, found 2"),
    "none correct": (_broken(lambda d: d[0]["answers"][0].update(correct=False)), "correct answer, found 0"),
    "missing feedback": (_broken(lambda d: d[0]["answers"][1].pop("feedback")), "answer 2: give a non-empty"),
    "blank feedback": (_broken(lambda d: d[0]["answers"][0].update(feedback="  ")), "answer 1: give a non-empty"),
    "correct not bool": (_broken(lambda d: d[0]["answers"][0].update(correct="yes")), "must be true or false"),
    "numeric answer text": (_broken(lambda d: d[0]["answers"][0].update(answer=3)), "'answer' must be a non-empty"),
    "duplicate answers": (_broken(lambda d: d[0]["answers"][1].update(answer="velocity Verlet")), "appears twice"),
    "one option": (_broken(lambda d: d[0].update(answers=d[0]["answers"][:1])), "at least two answers"),
    "numeric no default": (_broken(lambda d: d[1]["answers"].pop()), "exactly one {\"type\": \"default\""),
    "numeric none correct": (_broken(lambda d: d[1]["answers"][0].update(correct=False)), "with \"correct\": true"),
    "numeric bad value": (_broken(lambda d: d[1]["answers"][0].update(value="1")), "needs a finite number 'value'"),
    "numeric bad range": (_broken(lambda d: d[1]["answers"][1].update(range=[28, 2])), "low < high"),
    "numeric answer type": (_broken(lambda d: d[1]["answers"][0].update(type="exact")), "'type' is 'exact'"),
    "numeric default correct": (_broken(lambda d: d[1]["answers"][2].update(correct=True)), "'default' answer takes"),
    "latex in feedback": (_broken(lambda d: d[0]["answers"][0].update(feedback="Yes: $E$ stays")), "as Unicode"),
    "bad precision": (_broken(lambda d: d[1].update(precision=0)), "'precision' must be an integer >= 1"),
}


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_a_malformed_quiz_raises_a_typed_error_saying_what_to_change(tmp_path, case):
    data, fragment = BROKEN[case]
    with pytest.raises(DataFormatError) as info:
        load_quiz(_write(tmp_path, data))
    assert fragment in str(info.value)
    assert "quiz.json" in str(info.value)  # names the file


def test_invalid_json_and_missing_file_are_data_format_errors(tmp_path):
    with pytest.raises(DataFormatError, match="not valid JSON.*line 1"):
        load_quiz(_write(tmp_path, "[{'question': 1}]"))
    with pytest.raises(DataFormatError, match="does not exist"):
        load_quiz(tmp_path / "absent.json")


def test_an_unknown_name_lists_the_shipped_quizzes(monkeypatch, tmp_path):
    folder = tmp_path / "quizzes"
    folder.mkdir()
    _write(folder, GOOD, "01_demo.json")
    _write(folder, GOOD, "02_demo.json")
    monkeypatch.setattr(quizmod, "_quiz_dir", lambda: folder)
    assert list_quizzes() == ["01_demo", "02_demo"]
    assert load_quiz("02_demo") == GOOD
    with pytest.raises(UnknownNameError) as info:
        load_quiz("03_demo")
    assert "01_demo" in str(info.value) and "02_demo" in str(info.value) and "'03_demo'" in str(info.value)
    with pytest.raises(InvalidParameterError):
        load_quiz("../01_demo")


def test_html_output_is_self_contained_and_script_safe():
    hostile = copy.deepcopy(GOOD)
    hostile[0]["answers"][1]["feedback"] = "No </script><b>x</b> <!-- y"
    text = quiz_html(hostile)
    # one container div whose id is a JavaScript identifier, referenced by the inline script
    div_id = re.search(r'<div id="([A-Za-z_][A-Za-z0-9_]*)"', text).group(1)
    assert f"var questions{div_id} = " in text and f"show_questions(questions{div_id}, {div_id})" in text
    assert text.count("<script") == 1 and text.count("</script>") == 1  # the feedback cannot close the script
    assert "src=" not in text.split("<script", 1)[1].split(">", 1)[0]  # inline, no external file
    payload = text.split(f"var questions{div_id} = ", 1)[1].split(";\n", 1)[0]
    assert json.loads(payload.replace("<\\/", "</").replace("<\\!--", "<!--")) == hostile
    assert "class MCQuestion" in text and "check_numeric" in text  # jupyterquiz's library is inlined
    assert "cdn.jsdelivr" not in text and "script.src" not in text  # its MathJax download is patched out
    with pytest.raises(RuntimeError, match="offline patch"):
        quizmod._offline("function show_questions() {}")  # a changed library is reported, never shipped unpatched
    with pytest.raises(InvalidParameterError, match="max_width"):
        quiz_html(GOOD, max_width=50)


def test_two_renderings_get_distinct_ids():
    ids = {re.search(r'<div id="(\w+)"', quiz_html(GOOD)).group(1) for _ in range(3)}
    assert len(ids) == 3


def test_plain_text_lists_options_but_never_marks_the_answer():
    text = quiz_text(GOOD)
    assert text.splitlines()[0] == "Q1. " + GOOD[0]["question"]
    assert "a) velocity Verlet" in text and "b) forward Euler" in text and "(answer with a number)" in text
    assert "correct" not in text.lower() and "symplectic" not in text


def test_show_quiz_displays_an_html_and_text_bundle(monkeypatch, tmp_path):
    import IPython.display

    shown = []
    monkeypatch.setattr(IPython.display, "display", lambda obj: shown.append(obj))
    folder = tmp_path / "quizzes"
    folder.mkdir()
    _write(folder, GOOD, "01_demo.json")
    monkeypatch.setattr(quizmod, "_quiz_dir", lambda: folder)
    assert show_quiz("01_demo") is None
    assert len(shown) == 1 and isinstance(shown[0], QuizView)
    bundle = shown[0]._repr_mimebundle_()
    assert set(bundle) == {"text/html", "text/plain"} and "<script" in bundle["text/html"]
    with pytest.raises(UnknownNameError):
        show_quiz("absent")


def test_validate_returns_its_input():
    assert validate_quiz(GOOD) is GOOD


@pytest.mark.parametrize("path", SHIPPED or [None], ids=[p.stem for p in SHIPPED] or ["none"])
def test_every_shipped_quiz_is_valid_and_teaches(path):
    assert path is not None, "no quiz shipped in npsnn_edu/data/quizzes (each lab notebook needs one)"
    questions = load_quiz(path.stem)
    assert path.stem in list_quizzes()
    for q in questions:
        if q["type"] == "multiple_choice":
            assert sum(a["correct"] for a in q["answers"]) == 1
        assert all(a["feedback"].strip() for a in q["answers"])
    notebooks = {p.stem for p in REPO.glob("notebooks/*.ipynb")}
    assert path.stem in notebooks, f"{path.name}: no notebook notebooks/{path.stem}.ipynb uses this quiz"


@pytest.mark.parametrize("notebook", LAB_NOTEBOOKS, ids=[p.stem for p in LAB_NOTEBOOKS])
def test_every_lab_notebook_has_a_quiz_of_at_least_four_questions(notebook):
    assert notebook.stem in list_quizzes(), (f"{notebook.name}: write npsnn_edu/data/quizzes/{notebook.stem}.json "
                                             f"(>= 4 questions) and call show_quiz({notebook.stem!r})")
    assert len(load_quiz(notebook.stem)) >= 4, f"{notebook.name}: its quiz needs at least 4 questions"
