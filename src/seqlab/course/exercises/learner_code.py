"""The learner's code as the grader sees it: a notebook's or a .py file's source, whether a function is still
the template's blank, and an exception's traceback cut down to the learner's own lines."""

from __future__ import annotations

import ast
import inspect
import json
import linecache
import os
import re
import sys
import traceback
from pathlib import Path

import seqlab

_CHECK_CELL = re.compile(r"^\s*(check\(.*\)\s*;?\s*(#.*)?)?$")
_OURS = (os.path.dirname(os.path.abspath(seqlab.__file__)), sys.prefix, sys.base_prefix, "<frozen ")


def notebook_chunks(path: Path) -> list[tuple[str, str]]:
    """The notebook's code cells as (filename, source): magics and shell lines dropped, cells that only call
    check(...) skipped. Raises ValueError when the file is not a notebook."""
    try:   # plain JSON: nbformat's schema validation costs a second and grading needs only the code
        nb = json.loads(path.read_text(encoding="utf-8"))
        cells = nb["cells"]
        if not isinstance(cells, list) or nb.get("nbformat", 4) < 4:
            raise ValueError("expected nbformat 4 cells")
    except (ValueError, KeyError, TypeError, UnicodeDecodeError) as exc:
        raise ValueError(f"{path}: not a Jupyter notebook ({str(exc).splitlines()[0][:120]})") from None
    chunks = []
    for i, cell in enumerate(cells, start=1):
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        source = cell.get("source", "")
        lines = ("".join(source) if isinstance(source, list) else str(source)).splitlines()
        if all(_CHECK_CELL.match(line) for line in lines):
            continue
        lines = ["" if line.lstrip().startswith(("%", "!")) else line for line in lines]
        chunks.append((f"{path.name}, cell {i}", "\n".join(lines) + "\n"))
    return chunks


def _broken_cell(filename: str, src: str, exc: SyntaxError) -> str:
    """A notebook cell that does not compile, as stubs of the functions it defines, each raising the error:
    the other cells are still graded, and these functions say what is wrong with their cell."""
    message = f"{filename}, line {exc.lineno}: {exc.msg}"
    names = re.findall(r"^def\s+(\w+)\s*\(", src, flags=re.M)
    return "".join(f"def {n}(*args, **kwargs):\n    raise SyntaxError({message!r})\n" for n in names) or \
        f"raise SyntaxError({message!r})\n"


def file_chunks(path: Path) -> list[tuple[str, str]]:
    """(filename, source) pieces of a .py file or a notebook. A .py file must compile (else ValueError); a
    notebook cell that does not is replaced by stubs that raise its SyntaxError (see _broken_cell)."""
    if path.suffix == ".ipynb":
        chunks = []
        for filename, src in notebook_chunks(path):
            try:
                compile(src, filename, "exec")
            except SyntaxError as exc:
                src = _broken_cell(filename, src, exc)
            chunks.append((filename, src))
    else:
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            raise ValueError(f"{path}: not a text file (expected Python source)") from None
        chunks = [(str(path), text)]
    for filename, src in chunks:
        try:
            compile(src, filename, "exec")
        except SyntaxError as exc:
            raise ValueError(f"{filename}, line {exc.lineno}: {exc.msg} (the file must be valid Python)") from None
    return chunks


def defined_functions(chunks) -> dict[str, str]:
    """Top-level function name -> its source (the last definition wins, as when the cells run in order)."""
    out = {}
    for _, src in chunks:
        for node in ast.parse(src).body:
            if isinstance(node, ast.FunctionDef):
                out[node.name] = ast.get_source_segment(src, node)
    return out


def run_chunks(chunks, namespace: dict) -> list[str]:
    """Executes the pieces in order in `namespace`, going on after an error (as "run all" that does not stop).
    Each piece's source goes into linecache so tracebacks show the learner's lines. Returns the errors."""
    errors = []
    for filename, src in chunks:
        linecache.cache[filename] = (len(src), None, src.splitlines(True), filename)
        try:
            exec(compile(src, filename, "exec"), namespace)
        except Exception as exc:
            errors.append(learner_traceback(exc))
    return errors


def function_source(fn) -> str | None:
    try:
        return inspect.getsource(fn)
    except (OSError, TypeError):
        return None


def same_code(a: str | None, b: str | None) -> bool:
    """Whether two function sources are the same code (ignoring layout and comments)."""
    if a is None or b is None:
        return False
    try:
        return ast.dump(ast.parse(inspect.cleandoc("\n" + a) if a.startswith(" ") else a)) == ast.dump(ast.parse(b))
    except SyntaxError:
        return False


def learner_traceback(exc: BaseException) -> str:
    """The exception with only the learner's own frames: 'file, line N, in fn: code' lines, then the error."""
    lines = []
    for frame in traceback.extract_tb(exc.__traceback__):
        if frame.filename.startswith(_OURS) or frame.filename == __file__:
            continue
        code = f": {frame.line.strip()}" if frame.line else ""
        lines.append(f"{frame.filename}, line {frame.lineno}, in {frame.name}{code}")
    last = traceback.format_exception_only(type(exc), exc)[-1].strip()
    return "\n".join(lines + [last])
