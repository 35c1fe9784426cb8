"""seqlab course: the exercise files, the grader's verdicts (full marks for seqlab's solutions, each catalogued
mistake named on a mutant of a solution, blanks, exceptions, endless loops, memory, in-place writes), and the
command line (list, start, grade, --json, exit statuses)."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import nbformat
import numpy as np
import pytest

from course_mutants import MUTANTS
from seqlab.course.exercises import cases, flawed, grading, mistakes, templates
from seqlab.course.exercises.catalogue import ASSIGNMENTS, BY_NAME, EXERCISES
from seqlab.course.exercises.compare import same
from seqlab.course.exercises.files import grade_file
from seqlab.course.exercises.truth import TRUTH

KEYS = [a.key for a in ASSIGNMENTS]


def solved_text(assignment, edits=None):
    """seqlab's solution of the assignment; edits {function name: [(old, new)]} made inside those functions."""
    text = templates.hint_solution(templates.solution_text(assignment))
    header, parts = templates.split(text)
    out = [header]
    for name, src in parts:
        for old, new in (edits or {}).get(name, ()):
            assert src.count(old) == 1, old
            src = src.replace(old, new)
        out.append(src)
    return "\n\n".join(out)


def seqlab(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "seqlab", *args], capture_output=True, text=True, cwd=cwd,
                          timeout=120)


# --- the exercise files -------------------------------------------------------------------------------------------
def test_every_exercise_has_a_solution_cases_truth_and_mistakes():
    names = {n for a in KEYS for n, _ in templates.split(templates.solution_text(a))[1]}
    assert names == set(BY_NAME)
    assert len(mistakes.CATALOGUE) >= 20
    assert {m.exercise for m in mistakes.CATALOGUE} <= set(BY_NAME)
    assert {(e, m) for e, m, _ in MUTANTS} == {(m.exercise, m.id) for m in mistakes.CATALOGUE}
    for e in EXERCISES:
        assert e.name in TRUTH and callable(getattr(cases, e.name))


def test_templates_keep_signatures_hints_and_blank_the_code():
    blank = templates.template_functions()
    for a in KEYS:
        for name, src in templates.split(solved_text(a))[1]:
            tpl = blank[name]
            assert tpl.splitlines()[0] == src.splitlines()[0]            # the same signature
            assert "### START CODE HERE ### (≈" in tpl and "### END CODE HERE ###" in tpl
            assert tpl.count("(≈") == src.count("(≈")
            assert " = None" in tpl and len(tpl) < len(src)
    assert "(≈2 lines)" in blank["rnn_cell_forward"] and "np.tanh" not in blank["rnn_cell_forward"].split('"""')[2]


@pytest.mark.parametrize("name", [e.name for e in EXERCISES if e.name not in ("model", "torch_gradients")])
def test_flawed_without_a_mistake_is_the_truth(name):
    """The mistake catalogue's course-style code, with no mistake switched on, gives the engine's answers."""
    for label, args, *options in getattr(cases, name)():
        ex = BY_NAME[name]
        a, _, a_after = grading._call(lambda *x: getattr(flawed, name)(*x, m=None), args, False)
        b, _, b_after = grading._call(TRUTH[name], args, False)
        if options:   # the course's chaotic sampling set-up: only its robust first draws
            a, b = a[:options[0]["prefix"]], b[:options[0]["prefix"]]
        assert same(grading._values(ex, a, "", a_after), grading._values(ex, b, "", b_after)), label


# the seeds' printed values on the course's set-ups: (exercise, what, value)
PRINTED = [
    ("rnn_cell_forward", lambda r: r[0][4][:3], [0.59584544, 0.18141802, 0.61311866]),
    ("rnn_cell_forward", lambda r: r[1][1][:3], [0.9888161, 0.01682021, 0.21140899]),
    ("rnn_forward", lambda r: r[0][4][1], [-0.99999375, 0.77911235, -0.99861469, -0.99833267]),
    ("rnn_forward", lambda r: r[1][1][3], [0.79560373, 0.86224861, 0.11118257, 0.81515947]),
    ("rnn_forward", lambda r: r[2][1][1][3], [-1.1425182, -0.34934272, -0.20889423, 0.58662319]),
    ("lstm_cell_forward", lambda r: r[0][4][:3], [-0.66408471, 0.0036921, 0.02088357]),
    ("lstm_cell_forward", lambda r: r[1][2][:3], [0.63267805, 1.00570849, 0.35504474]),
    ("lstm_forward", lambda r: r[0][4][3][6], 0.17211776753291672),
    ("lstm_forward", lambda r: r[1][1][4][3], 0.9508734618501101),
    ("lstm_forward", lambda r: r[2][1][2][1], -0.8555449167181982),
    ("rnn_cell_backward", lambda r: r["dxt"][1][2], -0.4605641030588796),
    ("rnn_cell_backward", lambda r: r["dWaa"][1][2], -0.2848395578696067),
    ("rnn_backward", lambda r: r["dx"][1][2], [-2.07101689, -0.59255627, 0.02466855, 0.01483317]),
    ("rnn_backward", lambda r: r["dWaa"][1][2], 2.303333126579893),
    ("lstm_cell_backward", lambda r: r["dxt"][1][2], 3.230559115109188),
    ("lstm_cell_backward", lambda r: r["dc_prev"][2][3], 0.7975220387970015),
    ("lstm_cell_backward", lambda r: r["dWc"][3][1], 2.3045621636876668),
    ("clip", lambda r: r["dWya"][1][2], 0.2971381536101662),
    ("clip", lambda r: r["dby"][1], [8.45833407]),
    ("clip", lambda r: r["dWaa"][1][2], 10.0),
    ("optimize", lambda r: r[0], 126.50397572165359),
    ("optimize", lambda r: r[1]["dWaa"][1][2], 0.19470931534721306),
    ("optimize", lambda r: r[1]["dWya"][1][2], -0.007773876032003657),
    ("sample", lambda r: r[:5], [12, 17, 24, 14, 13]),
]


@pytest.mark.parametrize("name, what, value", PRINTED, ids=[p[0] for p in PRINTED])
def test_course_setups_reproduce_the_printed_numbers(name, what, value):
    """The grader's first case of each function is the course's own test cell: the engine's answer on it is
    what the course prints (to the 8 decimals of its arrays)."""
    result = TRUTH[name](*grading.copy.deepcopy(cases.__dict__[name]()[0][1]))
    np.testing.assert_allclose(np.asarray(what(result), np.float64), value, rtol=0, atol=1e-8)


def test_the_course_lstm_backward_print_is_its_mistake_not_the_truth():
    args = cases.lstm_backward()[0][1]
    assert abs(TRUTH["lstm_backward"](*args)["da0"][2][3] - 0.3127703102572602) < 1e-10   # the true value
    wrong = flawed.lstm_backward(*args, m="course-lstm-backward")
    for key, idx, printed in (("da0", (2, 3), -0.09591150195400468), ("dWf", (3, 1), -0.0698198561274401),
                              ("dbo", (4, 0), -0.29798344)):
        assert abs(wrong[key][idx] - printed) < 1e-8                                      # the course's print


# --- grading seqlab's solutions and their mutants ------------------------------------------------------------------
@pytest.mark.parametrize("assignment", KEYS)
@pytest.mark.parametrize("fmt", ["py", "ipynb"])
def test_solutions_score_full_marks(tmp_path, assignment, fmt):
    path = tmp_path / f"sol.{fmt}"
    if fmt == "py":
        path.write_text(templates.python_file(assignment, solved=True))
    else:
        nbformat.write(nbformat.from_dict(templates.notebook(assignment, solved=True)), str(path))
    results, load_errors = grade_file(path)
    assert load_errors == []
    assert [r["name"] for r in results] == templates.exercises_in(assignment)
    for r in results:
        assert r["passed"] and r["points"] == r["max_points"] > 0, r
    backward = [r for r in results if BY_NAME[r["name"]].forward]
    assert all(("gradient check (your " + BY_NAME[r["name"]].forward + ")", "ok") in r["checks"] for r in backward)


def _grade_mutant(name, edits):
    assignment = BY_NAME[name].assignment
    text = solved_text(assignment, {name: edits})
    namespace = {"__name__": "mutant"}
    exec(compile(text, "mutant.py", "exec"), namespace)
    source = dict(templates.split(text)[1])[name]
    return grading.grade(name, namespace[name], namespace, source)


@pytest.mark.parametrize("name, mistake, edits", MUTANTS, ids=[f"{n}:{m}" for n, m, _ in MUTANTS])
def test_each_catalogued_mistake_is_named(name, mistake, edits):
    r = _grade_mutant(name, edits)
    assert not r["passed"] and r["points"] == 0 and r["status"] == "failed"
    assert f"[mistake: {mistake}]" in r["message"], r["message"]
    assert "expected" in r["message"] or "course" in r["message"]


def test_the_course_lstm_backward_print_is_named_with_the_true_value():
    name, _, edits = next(m for m in MUTANTS if m[1] == "course-lstm-backward")
    msg = _grade_mutant(name, edits)["message"]
    assert "match the course's printed ones" in msg and "step t+1" in msg
    assert "-0.09591150" in msg and "0.31277031" in msg     # the course's da0[2][3] and the true one, side by side


def test_a_mistake_not_in_the_catalogue_still_gets_the_first_difference():
    r = _grade_mutant("rnn_cell_forward", [("a_next = np.tanh(Waa @ a_prev + Wax @ xt + ba)",
                                             "a_next = np.tanh(Waa @ a_prev + Wax @ xt + 2 * ba)")])
    assert r["status"] == "failed" and "likely mistake" not in r["message"]
    assert "wrong on \"the course's set-up\": a_next[0, 0]: expected" in r["message"]
    assert "relative error" in r["message"]


def test_a_backward_that_disagrees_with_its_forward_fails_the_gradient_check(monkeypatch):
    from seqlab.course.exercises import gradcheck

    def wrong_forward(xt, a_prev, p):   # right values, but doubled: the numerical gradient doubles
        a, y, cache = TRUTH["rnn_cell_forward"](xt, a_prev, p)
        return 2 * a, y, cache
    monkeypatch.setattr(gradcheck, "_agrees", lambda *a: True)   # as if the forward were right
    note, whose = gradcheck.check("rnn_cell_backward", TRUTH["rnn_cell_backward"], wrong_forward)
    assert whose == "your rnn_cell_forward"
    assert note.startswith("gradient check with your rnn_cell_forward: d") and "relative error" in note


def test_in_place_writes_fail_naming_the_array():
    r = _grade_mutant("rnn_cell_forward", [("    cache = (a_next, a_prev, xt, parameters)\n",
                                             "    parameters['Waa'][0, 0] = 0.0\n"
                                             "    cache = (a_next, a_prev, xt, parameters)\n")])
    assert r["status"] == "failed" and "changed its input parameters['Waa']" in r["message"], r["message"]
    r = _grade_mutant("rnn_backward", [("da_prevt = np.zeros((n_a, m))", "da_prevt = np.zeros((n_a, m))\n    da *= 1")])
    assert r["status"] == "passed"          # *= 1 changes nothing
    r = _grade_mutant("rnn_backward", [("    da0 = da_prevt\n", "    da0 = da_prevt\n    da[0, 0, 0] = 7.0\n")])
    assert "changed its input da (da[0, 0, 0]: was " in r["message"]


def test_a_wrong_cache_is_named():
    r = _grade_mutant("lstm_cell_forward", [("c_prev, ft, it, cct, ot, xt, parameters)\n    return",
                                              "c_prev, it, ft, cct, ot, xt, parameters)\n    return")])
    assert r["status"] == "failed" and "the cache is not what the backward function reads" in r["message"]
    assert "cache[4] (ft)" in r["message"]


# --- blanks, exceptions, endless loops, memory: through files and child processes ---------------------------------
def test_the_blank_templates_are_not_attempted(tmp_path):
    for a in KEYS:
        path = tmp_path / f"{a}.py"
        path.write_text(templates.python_file(a))
        results, _ = grade_file(path)
        for r in results:
            if r["status"] == "skipped":
                continue
            assert r["status"] == "not attempted" and r["points"] == 0 and not r["passed"], r
            assert "Traceback" not in r["message"] and "line" not in r["message"]


def test_exceptions_show_only_the_learners_lines_and_loops_and_memory_are_stopped(tmp_path):
    text = solved_text("textbook", {
        "bptt": [("    hs = [h0]\n", "    hs = [h0]\n    while True:\n        pass\n")],
        "residual_jacobian": [("g = np.tanh(U @ h_prev + W @ xt + b)", "g = np.tanh(U @ xt + W @ h_prev + b)")],
        "jacobian_growth": [("    h = h0\n", "    h = h0\n    hoard = []\n    while True:\n"
                                             "        hoard.append(np.empty(10 ** 7))\n")]})
    path = tmp_path / "book.py"
    path.write_text(text)
    results, _ = grade_file(path, time_limit=3)
    by = {r["name"]: r for r in results}
    assert by["bptt"]["status"] == "error" and "stopped after 3 s" in by["bptt"]["message"]
    msg = by["residual_jacobian"]["message"]
    assert by["residual_jacobian"]["status"] == "error" and "ValueError" in msg, msg
    assert f"{path}, line " in msg and ", in residual_jacobian: g = np.tanh(U @ xt" in msg
    assert "seqlab/" not in msg and "numpy/" not in msg and "Traceback" not in msg
    msg = by["jacobian_growth"]["message"]
    assert by["jacobian_growth"]["status"] == "error" and "ran out of the memory the grader allows" in msg, msg
    assert "in jacobian_growth: hoard.append(np.empty(10 ** 7))" in msg
    assert by["torch_gradients"]["passed"], by["torch_gradients"]   # graded after the others were stopped
    assert "note: it calls your residual_jacobian, which did not pass either" in msg


def test_a_partly_filled_function_is_not_finished():
    r = _grade_mutant("rnn_cell_forward", [("yt_pred = softmax(Wya @ a_next + by)", "yt_pred = None")])
    assert r["status"] == "not attempted" and "not finished" in r["message"]


# --- the command line ------------------------------------------------------------------------------------------
def test_list_shows_every_exercise_with_points():
    out = seqlab("course", "list")
    assert out.returncode == 0
    for e in EXERCISES:
        assert e.name in out.stdout
    assert "Assignment 1" in out.stdout and "24 points" in out.stdout and "needs PyTorch" in out.stdout


def test_start_writes_once_keeps_the_learners_files_and_force_keeps_a_bak(tmp_path):
    out = seqlab("course", "start", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    folder = tmp_path / "course"
    files = sorted(p.name for p in folder.iterdir())
    assert files == sorted(f"{a}.ipynb" for a in KEYS)
    nb = nbformat.read(str(folder / "step_by_step.ipynb"), as_version=4)
    nbformat.validate(nb)
    sources = [c.source for c in nb.cells]
    assert 'check("rnn_cell_forward")' in sources and any("def lstm_backward(da, caches):" in s for s in sources)
    mine = folder / "jazz.ipynb"
    mine.write_text(mine.read_text().replace("out = None", "out = 'my work'"))
    before = mine.read_bytes()
    again = seqlab("course", "start", cwd=tmp_path)
    assert again.returncode == 0 and "already there, left as it is" in again.stdout
    assert mine.read_bytes() == before
    forced = seqlab("course", "start", "--force", cwd=tmp_path)
    assert forced.returncode == 0 and "replaced" in forced.stdout
    assert (folder / "jazz.ipynb.bak").read_bytes() == before and mine.read_bytes() != before
    assert "(it was the untouched template)" in forced.stdout          # the three others: no copy needed
    assert sorted(p.name for p in folder.iterdir() if p.suffix == ".bak") == ["jazz.ipynb.bak"]
    mine.write_text(mine.read_text().replace("out = None", "out = 'my second try'"))
    second = mine.read_bytes()
    seqlab("course", "start", "--force", cwd=tmp_path)                 # a second --force keeps both copies
    assert (folder / "jazz.ipynb.bak").read_bytes() == before and (folder / "jazz.ipynb.bak.1").read_bytes() == second
    py = seqlab("course", "start", "mine", "--format", "py", cwd=tmp_path)
    assert py.returncode == 0
    assert sorted(p.name for p in (tmp_path / "mine").iterdir()) == sorted(f"{a}.py" for a in KEYS)
    compile((tmp_path / "mine" / "textbook.py").read_text(), "textbook.py", "exec")
    (tmp_path / "taken").write_text("a file")
    taken = seqlab("course", "start", "taken", cwd=tmp_path)
    assert taken.returncode == 2 and "is a file; expected a folder" in taken.stderr


def test_grade_json_shape_and_exit_statuses(tmp_path):
    good = tmp_path / "good.py"
    good.write_text(templates.python_file("jazz", solved=True))
    out = seqlab("course", "grade", str(good), "--json")
    assert out.returncode == 0, out.stderr
    js = json.loads(out.stdout)
    assert set(js) == {"exercises", "score", "max_score"} and js["score"] == js["max_score"] == 5
    assert all(set(e) == {"name", "passed", "points", "max_points", "message"} for e in js["exercises"])
    one = json.loads(seqlab("course", "grade", str(good), "--json", "--exercise", "one_hot").stdout)
    assert [e["name"] for e in one["exercises"]] == ["one_hot"]
    partial = tmp_path / "partial.py"     # only what it defines is graded; a blank fails with exit 1
    partial.write_text("import numpy as np\n\n" + templates.template_functions()["clip"])
    out = seqlab("course", "grade", str(partial))
    assert out.returncode == 1 and "clip" in out.stdout and "sample" not in out.stdout and "not attempted" in out.stdout
    (tmp_path / "notes.txt").write_text("hello")
    (tmp_path / "bad.ipynb").write_text("{not json")
    (tmp_path / "bad.py").write_text("def clip(:\n")
    for args, words in [(["missing.py"], "no such file"), (["notes.txt"], "expected a Python file"),
                        (["bad.ipynb"], "not a Jupyter notebook"), (["bad.py"], "must be valid Python"),
                        ([str(good), "--exercise", "nope"], "unknown"), ([str(good), "--time-limit", "0"], "positive"),
                        ([str(good), "--exercise", "clip"], "does not define")]:
        out = seqlab("course", "grade", *args, cwd=tmp_path)
        assert out.returncode == 2 and out.stdout == "", (args, out.stdout)
        assert len(out.stderr.strip().splitlines()) == 1 and words in out.stderr and "Traceback" not in out.stderr


def test_a_filled_in_notebook_passes_its_own_check_cells_in_a_fresh_kernel(tmp_path):
    """seqlab's solutions in the notebook `course start` writes, one function left blank: each check cell
    shows its table; the blank one says "not attempted" without a traceback."""
    from nbclient import NotebookClient

    nb = nbformat.from_dict(templates.notebook("step_by_step", solved=True))
    blank = next(i for i, c in enumerate(nb.cells) if c.source.startswith("def rnn_backward("))
    nb.cells[blank].source = templates.template_functions()["rnn_backward"].rstrip()
    NotebookClient(nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}).execute()
    checks = {c.source: "".join(o.get("text", "") for o in c.outputs) for c in nb.cells
              if c.cell_type == "code" and c.source.startswith("check(")}
    assert len(checks) == 8
    for source, text in checks.items():
        if "rnn_backward" in source and "lstm" not in source:
            assert "rnn_backward: not attempted — 0/3 points" in text and "Traceback" not in text, text
        else:
            assert ": passed —" in text and re.search(r"the course's set-up +ok", text), (source, text)


def test_a_notebook_with_magics_check_cells_and_a_broken_cell(tmp_path):
    """Magics and check(...) cells are skipped; a cell that does not compile fails only its own function."""
    sol = dict(templates.split(solved_text("jazz"))[1])
    cells = [nbformat.v4.new_code_cell("%matplotlib inline\nimport numpy as np\n!echo hi"),
             nbformat.v4.new_code_cell(sol["one_hot"]), nbformat.v4.new_code_cell('check("one_hot")'),
             nbformat.v4.new_code_cell(sol["inference_loop"].replace("for t in range(Ty):", "for t in range(Ty)")),
             nbformat.v4.new_code_cell("print(one_hot(np.eye(3)))  # the learner's own try-out")]
    path = tmp_path / "mine.ipynb"
    nbformat.write(nbformat.v4.new_notebook(cells=cells), str(path))
    results, errors = grade_file(path)
    by = {r["name"]: r for r in results}
    assert set(by) == {"one_hot", "inference_loop"} and errors == []
    assert by["one_hot"]["passed"]
    assert by["inference_loop"]["status"] == "error"
    assert "SyntaxError: mine.ipynb, cell 4, line " in by["inference_loop"]["message"]


def test_a_py_file_that_stops_early_says_why_its_functions_are_missing(tmp_path):
    path = tmp_path / "early.py"
    one_hot = dict(templates.split(solved_text("jazz"))[1])["one_hot"]
    path.write_text("import numpy as np\nimport cllm_utils\n\n" + one_hot)
    out = seqlab("course", "grade", str(path))
    assert out.returncode == 1
    assert "not defined when the file ran" in out.stdout and "No module named 'cllm_utils'" in out.stdout
    assert "early.py, line 2" in out.stdout


def test_without_pytorch_6_2p_is_skipped_not_failed(monkeypatch):
    monkeypatch.setitem(sys.modules, "torch", None)   # `import torch` raises ImportError
    r = _grade_mutant("torch_gradients", [])
    assert r["status"] == "skipped" and r["max_points"] == 0 and "needs torch" in r["message"]
    assert "skipped" not in _grade_mutant("bptt", [])["message"]
