"""Grading a file: a .py file or a notebook that defines the exercises by their course names. The exercises it
does not define are left out; each defined one is graded in a child process (sandbox)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from seqlab.course.exercises import sandbox
from seqlab.course.exercises.catalogue import BY_NAME, CALLS, EXERCISES
from seqlab.course.exercises.learner_code import defined_functions, file_chunks, run_chunks
from seqlab.errors import UserError
from seqlab.fileio import check_input_file

MAX_BYTES = 20 << 20


def read(path) -> tuple[Path, list[tuple[str, str]]]:
    """The file's code pieces, or a UserError (missing, not Python, not a notebook)."""
    p = check_input_file(path, "a Python file (.py) or a notebook (.ipynb)", "a file", MAX_BYTES)
    if p.suffix not in (".py", ".ipynb"):
        raise UserError(f"{p}: expected a Python file (.py) or a notebook (.ipynb), got {p.suffix or 'no suffix'}")
    try:
        return p, file_chunks(p)
    except ValueError as exc:
        raise UserError(str(exc)) from None


def grade_file(path, exercise: str | None = None, time_limit: float = sandbox.TIME_LIMIT):
    """-> (results, load errors). UserError for bad input or an --exercise the file does not define."""
    if exercise is not None and exercise not in BY_NAME:
        raise UserError(f"--exercise {exercise}: unknown; expected one of {', '.join(BY_NAME)} "
                        "(see `seqlab course list`)")
    p, chunks = read(path)
    sources = defined_functions(chunks)
    names = [e.name for e in EXERCISES if e.name in sources]
    if exercise is not None:
        if exercise not in sources:
            raise UserError(f"{p} does not define {exercise}; expected a function `def {exercise}(…)`")
        names = [exercise]
    if not names:
        raise UserError(f"{p} defines none of the exercises; expected functions named as in `seqlab course list`")

    def load():   # in the child: as when the file runs from its own folder
        os.chdir(p.resolve().parent)
        sys.path.insert(0, str(p.resolve().parent))
        namespace = {"__name__": "__course__", "__file__": str(p)}
        errors = run_chunks(chunks, namespace)
        return namespace, sources, errors

    results, errors = sandbox.grade_all(load, names, time_limit)
    return add_call_notes(results), errors


def add_call_notes(results: list[dict]) -> list[dict]:
    """A failed function that calls one of the learner's failed functions says so: fix that one first."""
    failed = {r["name"] for r in results if not r["passed"] and r["status"] != "skipped"}
    for r in results:
        culprits = [c for c in CALLS.get(r["name"], ()) if c in failed]
        if r["status"] in ("failed", "error") and culprits:
            r["message"] += f"\n  note: it calls your {' and '.join(culprits)}, which did not pass either: " \
                            "fix that first"
    return results
