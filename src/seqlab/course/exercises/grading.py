"""Grading one function in the process it runs in: the course's set-up and the hidden cases against the
engine's answer, inputs left unchanged, the cache the next function reads, a gradient check of the learner's
own forward for backward functions; a failure names the first entry that differs and, where the answer is that
of a known mistake (flawed.py, run on the same inputs), the mistake.

grade(name, fn, namespace, source) -> a result dict: name, status, passed, points, max_points, message, checks.
Statuses: passed, failed, not attempted, error, skipped (time limits are the sandbox's).
"""

from __future__ import annotations

import contextlib
import copy
import io

import numpy as np

from seqlab.course.exercises import cases, flawed, gradcheck, mistakes
from seqlab.course.exercises.catalogue import ARG_NAMES, BY_NAME
from seqlab.course.exercises.compare import first_difference, flatten, leaf_difference, same
from seqlab.course.exercises.learner_code import learner_traceback, same_code
from seqlab.course.exercises.templates import template_functions
from seqlab.course.exercises.truth import TRUTH


class _Failed(Exception):
    def __init__(self, status, message):
        super().__init__(message)
        self.status, self.message = status, message


def _call(fn, args, prints: bool):
    """fn(*copies of args) -> (result, what it printed, the copies as they are afterwards)."""
    args = copy.deepcopy(args)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        result = fn(*args)
    return result, out.getvalue(), args


def _contains_none(value) -> bool:
    if value is None:
        return True
    if isinstance(value, dict):
        return any(_contains_none(v) for v in value.values())
    if isinstance(value, (tuple, list)):
        return any(v is None for v in value)
    return False


def _stacked(result):
    """A list of same-shaped arrays as one array (a list of Ty outputs may also come as one array)."""
    if isinstance(result, (list, tuple)) and result and all(isinstance(r, np.ndarray) for r in result) \
            and len({r.shape for r in result}) == 1:
        return np.stack(result)
    return result


def _values(ex, result, printed, args_after) -> dict:
    """The parts of an answer that are compared (the cache apart), flattened with their names."""
    if ex.returns is None:
        vals = flatten(_stacked(result), ex.value)
    else:
        if not isinstance(result, (tuple, list)) or len(result) != len(ex.returns):
            got = f"{len(result)} values" if isinstance(result, (tuple, list)) else f"a {type(result).__name__}"
            raise _Failed("failed", f"expected {len(ex.returns)} values ({', '.join(ex.returns)}), got {got}")
        vals = {}
        for i, (part, name) in enumerate(zip(result, ex.returns)):
            if i != ex.cache:
                vals.update(flatten(part, name))
    if ex.loose_axes:   # (Ty, 1, n) as well as (Ty, n): size-1 axes dropped before comparing
        vals = {k: np.squeeze(v) if isinstance(v, np.ndarray) else v for k, v in vals.items()}
    for i, name in ex.after.items():
        vals.update(flatten(args_after[i], f"{name} afterwards"))
    if ex.prints:
        vals["printed"] = printed
    return vals


def _changed_input(ex, before, after) -> str | None:
    """The first array among the inputs that the function changed (where it may not)."""
    names = ARG_NAMES[ex.name]
    for i, (b, a) in enumerate(zip(before, after)):
        if i in ex.writes:
            continue
        fb, fa = flatten(b, names[i]), flatten(a, names[i])
        for key, vb in fb.items():
            if isinstance(vb, np.ndarray) and key in fa and not np.array_equal(vb, fa[key], equal_nan=True):
                diff = leaf_difference(fa[key], vb, key)
                return f"it changed its input {key} ({diff.replace('expected', 'was').replace('got', 'now')}); " \
                       "work on new arrays (e.g. x = x + 1, not x += 1) and leave the inputs as they were"
    return None


def _cache_difference(ex, got, expected) -> str | None:
    names = ex.cache_names
    if not isinstance(got, (tuple, list)) or len(got) != len(expected):
        n = len(got) if isinstance(got, (tuple, list)) else type(got).__name__
        return f"expected {len(expected)} entries ({', '.join(names)}), got {n}"
    for i, (g, e) in enumerate(zip(got, expected)):
        label = f"cache[{i}] ({names[i]})"
        if names[i] == "caches":
            if not isinstance(g, (list, tuple)) or len(g) != len(e):
                return f"{label}: expected a list of {len(e)} step caches, got {type(g).__name__}" \
                       + (f" of {len(g)}" if isinstance(g, (list, tuple)) else "")
        diff = first_difference(flatten(g, label), flatten(e, label))
        if diff:
            return diff
    return None


def _recognise(ex, args, got_values, prints, prefix=None) -> list[mistakes.Mistake]:
    """The catalogue's mistakes whose answer on these inputs is the learner's (only the first `prefix`
    entries where the case is chaotic past them)."""
    found = []
    if prefix:
        got_values = {ex.value: list(got_values[ex.value])[:prefix]}
    for m in mistakes.for_exercise(ex.name):
        fn = getattr(flawed, ex.name)
        try:
            result, printed, after = _call(lambda *a, _m=m.id: fn(*a, m=_m), args, prints)
            values = {ex.value: list(result)[:prefix]} if prefix else _values(ex, result, printed, after)
            if same(got_values, values):
                found.append(m)
        except Exception:  # a mistake that cannot run on this case is not this one
            continue
    return found


def _course_print_note(got_values, true_values) -> str:
    keys = ["gradients['da0']", "gradients['dWf']", "gradients['dbf']"]
    spots = [((2, 3), "da0[2][3]"), ((3, 1), "dWf[3][1]"), ((4, 0), "dbf[4]")]
    lines = []
    for key, (idx, label) in zip(keys, spots):
        lines.append(f"    {label}: yours {np.asarray(got_values[key])[idx]:.8f} (the course prints the same), "
                     f"true value {np.asarray(true_values[key])[idx]:.8f}")
    return "\n".join(lines)


def grade(name: str, fn, namespace: dict | None = None, source: str | None = None) -> dict:
    ex = BY_NAME[name]
    result = {"name": name, "status": "failed", "passed": False, "points": 0, "max_points": ex.points,
              "message": "", "checks": []}
    if ex.needs:
        try:
            __import__(ex.needs)
        except ImportError:
            result.update(status="skipped", max_points=0,
                          message=f"skipped: needs {ex.needs}, which is not installed here")
            return result
    blank = same_code(source, template_functions().get(name))
    try:
        _grade_cases(ex, fn, result, blank)
        if ex.forward:
            _gradient_check(ex, fn, namespace or {}, result)
    except _Failed as f:
        result.update(status=f.status, message=f.message)
        return result
    result.update(status="passed", passed=True, points=ex.points, message="passed: " + ", ".join(
        label for label, _ in result["checks"]))
    return result


def _grade_cases(ex, fn, result, blank):
    for label, args, *options in getattr(cases, ex.name)():
        prefix = options[0]["prefix"] if options else None
        try:
            got, printed, after = _call(fn, args, ex.prints)
        except MemoryError as exc:
            raise _Failed("error", f"stopped on {label!r}: it ran out of the memory the grader allows "
                                   f"(an allocation that grows without end?):\n{learner_traceback(exc)}") from None
        except Exception as exc:
            if blank:
                raise _Failed("not attempted", "not attempted: the blank is as the template left it") from None
            raise _Failed("error", f"raised an exception on {label!r}:\n{learner_traceback(exc)}") from None
        if blank or _contains_none(got):
            if blank:
                raise _Failed("not attempted", "not attempted: the blank is as the template left it")
            raise _Failed("not attempted", "not finished: part of what it returns is still None")
        expected, exp_printed, exp_after = _call(TRUTH[ex.name], args, ex.prints)
        try:
            got_values = _values(ex, got, printed, after)
        except _Failed as f:
            raise _Failed("failed", f"on {label!r}: {f.message}") from None
        true_values = _values(ex, expected, exp_printed, exp_after)
        if prefix:
            diff = _name_shape(got) or _prefix_difference(ex.value, list(got), list(expected), prefix)
        else:
            diff = first_difference(got_values, true_values)
        if diff:
            raise _Failed("failed", _failure_message(ex, label, args, diff, got_values, true_values, prefix))
        result["checks"].append((label, "ok"))
        changed = _changed_input(ex, args, after)
        if changed:
            raise _Failed("failed", f"on {label!r}: {changed}")
        if ex.cache is not None:
            cdiff = _cache_difference(ex, got[ex.cache], expected[ex.cache])
            if cdiff:
                raise _Failed("failed", f"the cache is not what the backward function reads, on {label!r}: "
                                        f"{cdiff}")
    result["checks"].append(("inputs unchanged", "ok"))
    if ex.cache is not None:
        result["checks"].append(("cache layout", "ok"))


def _prefix_difference(name, got, expected, prefix) -> str | None:
    """The first of the first `prefix` entries that differ (where the case is chaotic past them)."""
    n = min(prefix, len(got), len(expected))
    diff = first_difference({name: got[:n]}, {name: expected[:n]})
    if diff is None and len(got) != len(expected) and min(len(got), len(expected)) < prefix:
        diff = f"{name}: expected {len(expected)} draws, got {len(got)} (the first {n} agree)"
    if diff:
        diff += f" — only the first {prefix} are compared here: this RNN is chaotic past them"
    return diff


def _name_shape(indices) -> str | None:
    """What every sampled name must be: draws up to and including the first newline, at most 50 (+ newline)."""
    newline = cases.CHAR_TO_IX["\n"]
    ids = [int(i) for i in indices]
    if newline in ids[:-1]:
        return f"indices: the newline was drawn at position {ids.index(newline)} but sampling went on " \
               f"({len(ids)} indices)"
    if not ids or ids[-1] != newline or len(ids) > 51:
        return f"indices: expected at most 50 draws ending with the newline ({newline}), " \
               f"got {len(ids)} ending {ids[-1:]}"
    return None


def _failure_message(ex, label, args, diff, got_values, true_values, prefix=None) -> str:
    lines = [f"wrong on {label!r}: {diff}"]
    found = _recognise(ex, args, got_values, ex.prints, prefix)
    if found and found[0].id == "course-lstm-backward":
        lines = [f"on {label!r} your values match the course's printed ones, but that print is not the gradient:",
                 f"  {found[0].explanation}.", _course_print_note(got_values, true_values),
                 f"  first difference: {diff}",
                 "  fix: call the cell with da[:, :, t] + da_prevt and dc_prevt, then keep its da_prev and dc_prev "
                 "for the step before. [mistake: course-lstm-backward]"]
        return "\n".join(lines)
    for m in found[:1]:
        lines.append(f"  likely mistake: {m.title} — {m.explanation}. [mistake: {m.id}]")
    return "\n".join(lines)


def _gradient_check(ex, fn, namespace, result):
    note, whose = gradcheck.check(ex.name, fn, namespace.get(ex.forward))
    if note is not None:
        raise _Failed("failed", note)
    result["checks"].append((f"gradient check ({whose})", "ok"))
