"""The shared plumbing of the course command lines (npsnn_edu.course._cli)."""
from pathlib import Path

from npsnn_edu.course import assignments, hub, lesson_stats, notebook_runner, site
from npsnn_edu.course._cli import checked_notebooks, guarded
from npsnn_edu.errors import InvalidParameterError


def test_every_main_documents_argv_and_exit_status():
    for module in (assignments, hub, lesson_stats, notebook_runner, site):
        doc = module.main.__doc__
        assert "argv : sequence of str or None" in doc and "Exit status." in doc, module.__name__
        assert module.main.__module__ == module.__name__


def test_guarded_turns_only_the_named_errors_into_a_status(capsys):
    def bad() -> int:
        raise InvalidParameterError("no")

    assert guarded(lambda: 0, (InvalidParameterError,)) == 0
    assert guarded(bad, (InvalidParameterError,), prefix="cannot", status=1) == 1
    assert capsys.readouterr().err == "cannot: no\n"
    try:  # an error not named is a bug: it is not swallowed
        guarded(bad, (KeyError,))
    except InvalidParameterError:
        pass
    else:
        raise AssertionError("guarded swallowed an error it was not given")


def test_checked_notebooks(tmp_path, capsys):
    nb = tmp_path / "01.ipynb"
    nb.write_text("{}")
    assert checked_notebooks([nb], list) == [nb]
    assert checked_notebooks([], lambda: [nb]) == [nb]
    assert checked_notebooks([], list) is None
    assert "no notebooks found" in capsys.readouterr().err
    assert checked_notebooks([nb, tmp_path / "missing.ipynb"], list) is None
    assert "missing.ipynb" in capsys.readouterr().err
    assert checked_notebooks([tmp_path], list) is None  # a folder is not a notebook file...
    assert checked_notebooks([tmp_path], list, exists=Path.exists) == [tmp_path]  # ...unless only existence counts
