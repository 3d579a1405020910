"""Self-check functions for the notebook exercises (no grader server needed: works on Binder).

Convention shared by every chapter: an exercise is a FUNCTION the student completes.  In the instructor
notebook its body sits between ``### BEGIN SOLUTION`` and ``### END SOLUTION`` (nbgrader markers); the
student version replaces that region with ``raise NotImplementedError()``.  The next cell is one call
``check_<name>(<function>)`` of a check decorated with :func:`~npsnn_edu.exercises.feedback.checker`: it calls
the student's function, catches whatever it raises, and returns a :class:`CheckResult` (truthy iff passed)
with specific feedback that never gives the answer away: checks never raise, so an untouched student notebook
shows messages, not tracebacks. For grading, ``npsnn_edu.course.assignments`` turns each check into a hidden nbgrader
test (``assert check_<name>(<function>)``) that does raise.
"""
from .feedback import CheckResult, call_student_function, checker, result

__all__ = ["CheckResult", "call_student_function", "checker", "result"]
