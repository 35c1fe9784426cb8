"""Each function graded in a child process with a time limit and a memory limit, so that an endless loop or
a runaway allocation is stopped and the other functions are still graded.

The child is a fork of this process (NumPy already loaded, the learner's functions already in memory for
`check`): it loads the learner's code, grades the names in order and sends each result down a pipe; when one
takes longer than the limit the child is killed, that function reported as stopped, and a new child takes the
rest. Linux/macOS only (fork).
"""

from __future__ import annotations

import multiprocessing as mp
import os
import resource

from seqlab.course.exercises import grading
from seqlab.course.exercises.catalogue import BY_NAME

GRADING = "SEQLAB_COURSE_GRADING"   # set in the grader's children
TIME_LIMIT = 10.0          # seconds per function
MEMORY_LIMIT = 1 << 30     # bytes of address space the child may add (the exercises need a few MiB)


def _limit_memory():
    try:
        with open("/proc/self/statm") as f:
            used = int(f.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except OSError:
        used = 0
    limit = used + MEMORY_LIMIT
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    resource.setrlimit(resource.RLIMIT_AS, (limit, hard))


def _child(conn, load, names):
    """load() -> (namespace, sources, load errors); then one result per name down conn."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)   # the learner's prints at load time go nowhere
    os.dup2(devnull, 2)
    _limit_memory()
    try:
        namespace, sources, errors = load()
    except MemoryError:
        conn.send(("load", "loading used more than the memory limit"))
        return
    except Exception as exc:
        conn.send(("load", f"could not load the code: {exc}"))
        return
    conn.send(("loaded", errors))
    os.environ[GRADING] = "1"   # check(...) lines in the learner's code do nothing here
    for name in names:
        fn = namespace.get(name)
        if not callable(fn):
            why = f": running it stopped first —\n{errors[0]}" if errors else ""
            conn.send(("result", _stopped(name, f"not defined when the file ran{why}")))
            continue
        try:
            res = grading.grade(name, fn, namespace, sources.get(name))
        except MemoryError:
            res = _stopped(name, f"stopped: it needed more than the {MEMORY_LIMIT >> 30} GiB of memory allowed")
        conn.send(("result", res))


def _stopped(name, message, status="error"):
    return {"name": name, "status": status, "passed": False, "points": 0, "max_points": BY_NAME[name].points,
            "message": message, "checks": []}


def grade_all(load, names: list[str], time_limit: float = TIME_LIMIT) -> tuple[list[dict], list[str]]:
    """Grades `names` with the code that load() makes, each in a child with `time_limit` seconds.
    Returns (results in order, errors raised while loading the code)."""
    for name in names:   # an optional module (torch) imported once here, not in each child within its limit
        if BY_NAME[name].needs:
            try:
                __import__(BY_NAME[name].needs)
            except ImportError:
                pass
    ctx = mp.get_context("fork")
    results, load_errors, todo = [], [], list(names)
    while todo:
        parent, child_end = ctx.Pipe(duplex=False)
        proc = ctx.Process(target=_child, args=(child_end, load, todo), daemon=True)
        proc.start()
        child_end.close()
        loaded = False
        try:
            while todo:
                limit = time_limit if loaded else time_limit * 3
                if not parent.poll(limit):
                    who = todo.pop(0) if loaded else None
                    if who is None:
                        results += [_stopped(n, f"stopped: loading the file took more than {limit:g} s")
                                    for n in todo]
                        todo = []
                    else:
                        results.append(_stopped(who, f"stopped after {time_limit:g} s: an endless loop, or far "
                                                     "too much work for these small inputs", "error"))
                    break
                try:
                    kind, payload = parent.recv()
                except EOFError:   # the child died (killed for memory, a crash in C code)
                    who = todo.pop(0)
                    results.append(_stopped(who, "stopped: the process grading it died (out of memory?)"))
                    break
                if kind == "loaded":
                    loaded = True
                    load_errors = payload
                elif kind == "load":
                    results += [_stopped(n, payload) for n in todo]
                    todo = []
                else:
                    results.append(payload)
                    todo.pop(0)
        finally:
            if proc.is_alive():
                proc.kill()
            proc.join()
            parent.close()
    return results, load_errors
