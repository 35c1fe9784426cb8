"""The exercise files: seqlab's solutions (solutions/*.py) with each `### START CODE HERE ###` block emptied
into `name = None` lines, the `(≈N lines)` hint counted from the solution, as a notebook or a .py file."""

from __future__ import annotations

import ast
import json
import re
import textwrap
from functools import lru_cache
from pathlib import Path

from seqlab.course.exercises.catalogue import ASSIGNMENTS, BY_NAME, of_assignment
from seqlab.course.exercises.texts import AFTER, NOTES
from seqlab.fileio import write_bytes_atomic

SOLUTIONS = Path(__file__).parent / "solutions"
START, END = "### START CODE HERE ###", "### END CODE HERE ###"


def solution_text(assignment: str) -> str:
    return (SOLUTIONS / f"{assignment}.py").read_text(encoding="utf-8")


def _targets(block: list[str], indent: int) -> list[str]:
    """The plain names the block's own statements assign, in order (what the blank sets to None)."""
    tree = ast.parse(textwrap.dedent("".join(block)))
    names = []
    for node in tree.body:
        if isinstance(node, ast.Assign):
            for target in node.targets:
                elts = target.elts if isinstance(target, ast.Tuple) else [target]
                names += [e.id for e in elts if isinstance(e, ast.Name)]
    return list(dict.fromkeys(names))


def blank(text: str) -> str:
    """Empties every START … END block: its comments stay, its code becomes `name = None` lines."""
    lines = text.splitlines(True)
    out, i = [], 0
    while i < len(lines):
        line = lines[i]
        if START not in line:
            out.append(line)
            i += 1
            continue
        j = next(k for k in range(i + 1, len(lines)) if END in lines[k])
        block = lines[i + 1:j]
        indent = len(line) - len(line.lstrip())
        pad = " " * indent
        n = sum(1 for b in block if b.strip() and not b.strip().startswith("#"))
        out.append(f"{pad}{START} (≈{n} lines)\n")
        out += [b for b in block if b.strip().startswith("#") and len(b) - len(b.lstrip()) == indent]
        names = _targets(block, indent)
        out += [f"{pad}{name} = None\n" for name in names] or [f"{pad}pass\n"]
        out.append(lines[j])
        i = j + 1
    return "".join(out)


def hint_solution(text: str) -> str:
    """The solution with the same `(≈N lines)` hints as the template."""
    lines = text.splitlines(True)
    for i, line in enumerate(lines):
        if START in line and "(≈" not in line:
            j = next(k for k in range(i + 1, len(lines)) if END in lines[k])
            n = sum(1 for b in lines[i + 1:j] if b.strip() and not b.strip().startswith("#"))
            lines[i] = line.rstrip("\n") + f" (≈{n} lines)\n"
    return "".join(lines)


def split(text: str) -> tuple[str, list[tuple[str, str]]]:
    """A module's text -> (its header: docstring and imports, [(function name, its source)])."""
    tree = ast.parse(text)
    lines = text.splitlines(True)
    funcs = [n for n in tree.body if isinstance(n, ast.FunctionDef)]
    header = "".join(lines[:funcs[0].lineno - 1]).rstrip() + "\n"
    parts = [(f.name, "".join(lines[f.lineno - 1:f.end_lineno]).rstrip() + "\n") for f in funcs]
    return header, parts


@lru_cache(maxsize=None)
def template_functions() -> dict[str, str]:
    """Every exercise's blank function source, by name."""
    out = {}
    for a in ASSIGNMENTS:
        out.update(split(blank(solution_text(a.key)))[1])
    return out


def _markdown_for(name: str) -> str:
    ex = BY_NAME[name]
    extra = " (needs PyTorch: skipped when it is not installed)" if ex.needs else ""
    return f"### `{name}` — {ex.points} point{'s' if ex.points > 1 else ''}{extra}\n\n{NOTES[name]}\n\n" \
           f"Fill in the block between `{START}` and `{END}` (the docstring gives every shape), run the cell, " \
           "then the check below it."


def _header_parts(header: str) -> tuple[str, str]:
    """(the module docstring, the import lines)."""
    doc = ast.get_docstring(ast.parse(header)) or ""
    body = header.split('"""', 2)[2].strip() + "\n" if header.startswith('"""') else header
    return doc, body


def _cell(kind: str, source: str) -> dict:
    cell = {"cell_type": kind, "metadata": {}, "source": source}
    if kind == "code":
        cell.update(execution_count=None, outputs=[])
    return cell


def notebook(assignment: str, solved: bool = False) -> dict:
    """The assignment as a notebook (nbformat 4 as a plain dict, so that writing one needs no Jupyter package):
    intro, imports with `check`, then per function its markdown, its code cell and a `check("name")` cell."""
    a = next(x for x in ASSIGNMENTS if x.key == assignment)
    text = hint_solution(solution_text(assignment)) if solved else blank(solution_text(assignment))
    header, parts = split(text)
    doc, imports = _header_parts(header)
    cells = [_cell("markdown", f"# {a.title}\n\n{doc}\n\nEach `check(\"…\")` cell grades "
                                           "the function above it offline: the course's own test, cases of other "
                                           "shapes, and what the next function needs. `seqlab course grade` "
                                           "grades the whole notebook."),
             _cell("code", imports + "\nfrom seqlab.course.exercises import check")]
    for name, src in parts:
        cells += [_cell("markdown", _markdown_for(name)), _cell("code", src.rstrip()),
                  _cell("code", f'check("{name}")')]
        if name in AFTER:
            cells.append(_cell("code", AFTER[name]))
    return {"cells": cells, "nbformat": 4, "nbformat_minor": 4,
            "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
                         "language_info": {"name": "python"}}}


def python_file(assignment: str, solved: bool = False) -> str:
    """The assignment as one .py file, graded with `seqlab course grade FILE`."""
    text = hint_solution(solution_text(assignment)) if solved else blank(solution_text(assignment))
    header, parts = split(text)
    a = next(x for x in ASSIGNMENTS if x.key == assignment)
    lines = [header.rstrip(), "", f"# {a.title}: fill in each block between the START and END lines, then run",
             f"#     seqlab course grade {assignment}.py            (or --exercise NAME for one function)", ""]
    for name, src in parts:
        lines += ["", src.rstrip(), ""]
    return re.sub(r"\n{4,}", "\n\n\n", "\n".join(lines)).rstrip() + "\n"


def file_name(assignment: str, fmt: str) -> str:
    return f"{assignment}.{'ipynb' if fmt == 'ipynb' else 'py'}"


def write_all(folder: Path, fmt: str = "ipynb", force: bool = False) -> list[tuple[Path, str]]:
    """Writes one file per assignment into folder. An existing file is left as it is ("kept"), unless force:
    then it is first copied to FILE.bak (FILE.bak.1, … when that exists: no copy is ever overwritten), unless
    it is the untouched template. Returns [(path, what happened, the copy or None)]."""
    folder.mkdir(parents=True, exist_ok=True)
    done = []
    for a in ASSIGNMENTS:
        path = folder / file_name(a.key, fmt)
        if path.exists() and not force:
            done.append((path, "kept", None))
            continue
        text = json.dumps(notebook(a.key), indent=1, ensure_ascii=False) + "\n" if fmt == "ipynb" \
            else python_file(a.key)
        what, copy = "written", None
        if path.exists():
            what = "replaced"
            old = path.read_bytes()
            if old != text.encode("utf-8"):
                copy = next(p for p in (path.with_name(f"{path.name}.bak{'' if i == 0 else f'.{i}'}")
                                        for i in range(10 ** 6)) if not p.exists())
                write_bytes_atomic(copy, old)
        write_bytes_atomic(path, text.encode("utf-8"))
        done.append((path, what, copy))
    return done


def exercises_in(assignment: str) -> list[str]:
    return [e.name for e in of_assignment(assignment)]
