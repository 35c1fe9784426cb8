"""Doing the course: the exercises with their blanks, and an offline grader that names the mistake.

    seqlab course list / start [DIR] / grade FILE      (seqlab.commands.course)
    check("rnn_cell_forward")                            (in a notebook written by `course start`)

catalogue: the exercises and points; templates: the files (from solutions/); cases: the inputs; truth: the
engine's answers; flawed + mistakes: the mistake catalogue; grading: one function; sandbox: child processes
with time and memory limits; report: the text and JSON; files: grading a .py or .ipynb file.
"""

from __future__ import annotations

import os
import sys

from seqlab.course.exercises.catalogue import BY_NAME


def check(name: str, time_limit: float | None = None):
    """Grades the function `name` defined in the calling notebook (or module) and shows a small table.
    The result dict (name, passed, points, max_points, message, checks) is kept in check.last."""
    from seqlab.course.exercises import report, sandbox
    from seqlab.course.exercises.learner_code import function_source

    if os.environ.get("SEQLAB_COURSE_GRADING"):   # inside the grader (sandbox.GRADING): nothing to do
        return None
    if name not in BY_NAME:
        raise ValueError(f"check: unknown exercise {name!r}; expected one of {', '.join(BY_NAME)}")
    namespace = sys._getframe(1).f_globals
    fn = namespace.get(name)
    if fn is None:
        print(f"{name}: not defined yet — run the cell that defines it first")
        return None

    def load():
        return namespace, {name: function_source(fn)}, []

    results, _ = sandbox.grade_all(load, [name], time_limit or sandbox.TIME_LIMIT)
    res = results[0]
    report.show_check(res)
    check.last = res


check.last = None
