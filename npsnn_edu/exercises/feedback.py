"""Feedback objects shared by the chapter self-checks.

A self-check returns a :class:`CheckResult` (truthy iff passed) and never raises (:func:`checker`): the friendly
feedback a student reads. Grading is separate: the nbgrader course (``python -m npsnn_edu.course.assignments
--nbgrader-course DIR``) adds after each self-check a hidden graded cell ``assert check_x(fn), ...``.
"""
from __future__ import annotations

import sys
import traceback
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence


@dataclass
class CheckResult:
    """Outcome of a self-check: ``passed`` plus human-readable messages (shown as the cell's output).

    Parameters
    ----------
    exercise : str
        Exercise label (e.g. ``"1.2"``).
    passed : bool
        Whether every check passed.
    messages : list of str, default []
        What to show.
    """

    exercise: str
    passed: bool
    messages: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return self.passed

    def __str__(self) -> str:
        head = f"[{'PASS' if self.passed else 'NOT YET'}] {self.exercise}"
        return "\n".join([head, *("  - " + m for m in self.messages)])

    __repr__ = __str__

    def _repr_markdown_(self) -> str:
        icon = "\u2705" if self.passed else "\u274c"
        body = "\n".join(f"- {m}" for m in self.messages)
        return f"**{icon} {self.exercise}**\n\n{body}"


def call_student_function(exercise: str, fn: Any, *args: Any, **kwargs: Any) -> tuple[bool, Any, str]:
    """Call ``fn(*args, **kwargs)`` defensively.

    Returns ``(ok, value, message)``: ``ok`` False with a helpful message when ``fn`` is not callable,
    still raises ``NotImplementedError`` (the untouched stub), or raises anything else.

    Parameters
    ----------
    exercise : str
        Exercise label.
    fn : callable
        The student's function.
    *args, **kwargs
        Its arguments.

    Returns
    -------
    ok : bool
    value : object
    message : str
    """
    if not callable(fn):
        return False, None, (f"{exercise}: expected a function, got {type(fn).__name__}. Did you run the cell that "
                             "defines it?")
    try:
        return True, fn(*args, **kwargs), ""
    except NotImplementedError:
        name = getattr(fn, "__name__", "the function")
        return False, None, (f"{name} is not written yet: replace `raise NotImplementedError()` in its cell with your "
                             "code, run that cell, then run this check again.")
    except Exception as exc:  # student code may raise anything; report it without a traceback
        last = traceback.extract_tb(exc.__traceback__)[-1]
        return False, None, (f"{getattr(fn, '__name__', 'your function')} raised {type(exc).__name__}: {exc} "
                             f"(line {last.lineno}: `{(last.line or '').strip()}`)")


def result(exercise: str, checks: list[tuple[bool, str]], success: str = "Well done.") -> CheckResult:
    """Combine (condition, message-if-failed) pairs into a CheckResult.

    Parameters
    ----------
    exercise : str
        Exercise label.
    checks : list of (bool, str)
        Conditions and their message when false.
    success : str, default "Well done."
        Message when all pass.

    Returns
    -------
    CheckResult
    """
    failures = [msg for ok, msg in checks if not ok]
    return CheckResult(exercise, not failures, failures or [success])


def checker(exercise: str) -> Callable[[Callable[..., CheckResult]], Callable[..., CheckResult]]:
    """Decorator: a check function that can never raise (an internal error becomes a NOT YET message).

    Parameters
    ----------
    exercise : str
        Exercise label.

    Returns
    -------
    callable
        The decorator.
    """
    def wrap(fn: Callable[..., CheckResult]) -> Callable[..., CheckResult]:
        def inner(*args: Any, **kwargs: Any) -> CheckResult:
            try:
                return fn(*args, **kwargs)
            except Exception as exc:  # pragma: no cover - defensive
                return CheckResult(exercise, False, [f"could not check your answer: {type(exc).__name__}: {exc}"])
        inner.__name__, inner.__doc__ = fn.__name__, fn.__doc__
        return inner
    return wrap


# ------------------------------------------------------------------------------------------------
# Guard: did the student's function call the kit's own implementation?
# ------------------------------------------------------------------------------------------------
class calls_into:  # noqa: N801 - used as a context manager, reads like a function
    """Context manager recording whether Python code of the given modules ran inside the ``with`` block.

    ``with calls_into(npsnn_edu.md.analysis) as spy: fn(...)``; then ``spy.called`` is True when any function
    defined in one of the modules' files was entered (however it was imported). Uses ``sys.setprofile``
    (restored afterwards); C functions are ignored.
    """

    def __init__(self, *modules: Any):
        self.files = {str(getattr(mod, "__file__", mod)) for mod in modules}
        self.called = False
        self._previous: Any = None

    def _profile(self, frame: Any, event: str, arg: Any) -> None:
        if event == "call" and frame.f_code.co_filename in self.files:
            self.called = True

    def __enter__(self) -> "calls_into":
        self._previous = sys.getprofile()
        sys.setprofile(self._profile)
        return self

    def __exit__(self, *exc: Any) -> None:
        sys.setprofile(self._previous)


def call_guarded(name: str, fn: Any, modules: Sequence[Any], *args: Any) -> "tuple[bool, Any, str, bool]":
    """Call the student's ``fn`` (as :func:`call_student_function`) and report whether it ran the kit's own
    code of ``modules``: ``(ok, value, message, used_kit)``.

    Parameters
    ----------
    name : str
        Exercise label.
    fn : callable
        The student's function.
    modules : sequence of modules
        Kit modules whose use is detected.
    *args
        Arguments of ``fn``.

    Returns
    -------
    ok : bool
    value : object
    message : str
    used_kit : bool
    """
    with calls_into(*modules) as spy:
        ok, value, msg = call_student_function(name, fn, *args)
    return ok, value, msg, spy.called
