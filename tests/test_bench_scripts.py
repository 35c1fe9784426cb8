"""Every benchmark script refuses an abbreviated flag (argparse would take `--rep 3` for `--repeats 3`, and a
misspelt flag could then start a long run that means something else)."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[1] / "bench"
SCRIPTS = sorted(BENCH.glob("*.py"))


def long_flags(script: Path) -> list[str]:
    """The --flags its parser declares, read from the source."""
    flags = []
    for node in ast.walk(ast.parse(script.read_text())):
        if isinstance(node, ast.Call) and getattr(node.func, "attr", None) == "add_argument":
            flags += [a.value for a in node.args if isinstance(a, ast.Constant) and str(a.value).startswith("--")]
    return flags


def test_every_script_is_found():
    assert {s.name for s in SCRIPTS} >= {"tinyshakespeare.py", "recipes.py", "processes.py", "profile_step.py"}


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda s: s.name)
def test_an_abbreviated_flag_is_one_line_and_status_2(script):
    flags = long_flags(script)
    # a prefix that only one flag starts with, so that argparse would otherwise accept it
    flag = next(f for f in flags if len(f) > 4 and sum(g.startswith(f[:-1]) for g in flags) == 1)
    done = subprocess.run([sys.executable, str(script), flag[:-1], "3"], capture_output=True, text=True,
                          timeout=60, cwd=BENCH.parent)
    assert done.returncode == 2
    # argparse's usage, then its one error line
    assert done.stderr.splitlines()[-1] == f"{script.name}: error: unrecognized arguments: {flag[:-1]} 3"
    assert "Traceback" not in done.stderr and done.stdout == ""
