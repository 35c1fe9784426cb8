"""Every example marked in README.md and docs/*.md runs and prints what it shows (tests/doc_examples.py says how
examples are marked); the runner itself catches a wrong output and a malformed mark."""

from __future__ import annotations

import contextlib
import io
import re

import pytest

from conftest import dataset_path
from doc_examples import ROOT, Example, console_commands, difference, documents, examples, matches, run_pycon
from seqlab.cli import main

ALL = [example for path in documents() for example in examples(path)]


def run_seqlab(argv: list[str], capsys) -> tuple[int, str]:
    """Exit status and stdout + stderr of `seqlab ARGV` run in this process."""

    capsys.readouterr()
    try:
        status = main(argv)
    except SystemExit as exc:   # --help and argparse's usage errors
        status = exc.code or 0
    out, err = capsys.readouterr()
    return status, out + err


@pytest.mark.parametrize("example", ALL, ids=[example.id for example in ALL])
def test_the_example_prints_what_it_shows(example: Example, tmp_path, monkeypatch, capsys):
    for name in example.needs:
        dataset_path(name)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("COLUMNS", "80")   # argparse's --help wraps at the terminal's width
    if example.kind == "console":
        for argv, shown in console_commands(example.code):
            status, got = run_seqlab(argv, capsys)
            assert status == example.exit, f"seqlab {' '.join(argv)}: exit {status}\n{got}"
            assert matches(shown, got), f"seqlab {' '.join(argv)}\n" + difference(shown, got)
    elif example.kind == "pycon":
        report = run_pycon(example)
        assert report == "", report
    else:
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            exec(compile(example.code, example.id, "exec"), {"__name__": "__doc_example__"})
        if example.output is not None:
            assert matches(example.output, out.getvalue()), difference(example.output, out.getvalue())


def test_the_front_page_and_every_page_with_commands_has_examples():
    marked = {example.path.name for example in ALL}
    assert {"README.md", "index.md", "dinosaurs.md", "poems.md", "jazz.md", "engine.md", "course.md"} <= marked


def test_a_wrong_shown_output_is_caught(capsys, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    ((argv, shown),) = console_commands("$ seqlab names -n 2 --seed 0 --prefix Tyr\nTyr...\n...\n")
    status, got = run_seqlab(argv, capsys)
    assert status == 0 and matches(shown, got)
    assert not matches("Tyrannosaurus\nTyr...\n", got)
    assert not matches(shown + "one line more\n", got)


def test_a_failing_pycon_session_is_reported(tmp_path):
    example = Example(ROOT / "README.md", 1, "pycon", ">>> 1 + 1\n3\n")
    assert "Expected:\n    3\nGot:\n    2" in run_pycon(example)


@pytest.mark.parametrize("text, says", [
    ("<!-- example -->\nno fence\n", "must be followed at once by a ``` block"),
    ("<!-- example -->\n```\n$ seqlab names\n```\n", "not 'plain'"),
    ("<!-- example -->\n```console\n$ seqlab names\n", "never closed"),
    ("<!-- example need=dinos -->\n```console\n$ seqlab names\n```\n", "unknown example option 'need=dinos'"),
    ("<!-- output -->\n```text\nx\n```\n", "must follow a python example"),
])
def test_a_malformed_mark_is_named(text, says):
    with pytest.raises(ValueError, match=re.escape(says)):
        examples(ROOT / "docs" / "index.md", text)


def test_only_seqlab_commands_are_run():
    with pytest.raises(ValueError, match="only `\\$ seqlab ...` commands"):
        console_commands("$ rm -rf build\n")
