"""Self-check functions for the notebook exercises (no grader server needed: works on Binder).

Convention shared by every chapter: an exercise is a FUNCTION the student completes.  In the instructor
notebook its body sits between ``### BEGIN SOLUTION`` and ``### END SOLUTION`` (nbgrader markers); the
student version replaces that region with ``raise NotImplementedError()``.  A check function calls the
student's function, catches whatever it raises, and returns a :class:`CheckResult` that prints specific
feedback: checks never raise, so an untouched student notebook shows messages, not tracebacks.
"""
from .feedback import CheckResult, call_student_function

__all__ = ["CheckResult", "call_student_function"]
