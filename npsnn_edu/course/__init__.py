"""Course tooling: what a teacher runs around the notebooks. It sits on top of the package (nothing below imports it).

- :mod:`~npsnn_edu.course.assignments`: student versions of the notebooks and nbgrader course folders;
- :mod:`~npsnn_edu.course.notebook_runner`: execute notebooks headless (fast, classroom or full mode) and export HTML;
- :mod:`~npsnn_edu.course.hub`: nbgitpuller links and a zero-to-jupyterhub single-user config;
- :mod:`~npsnn_edu.course.site`: the course website (Jupyter Book) laid out from the executed notebooks and docs/;
- :mod:`~npsnn_edu.course.lesson_stats`: words, numbers in prose, figures, quizzes and time of every lesson.
"""
