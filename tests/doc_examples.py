"""The examples of README.md and docs/*.md: found, run and compared with the output they show.

A fenced block is an example when the line before it is an HTML comment starting with `example` (invisible on
GitHub and in the built site):

    <!-- example -->                      run it; exit status 0 expected
    <!-- example needs=dinos,metheny -->  skip, saying how to get them, when those datasets are absent
    <!-- example exit=2 -->               the commands' expected exit status

Three kinds of block, by their language:

- `console`: lines starting with `$ seqlab ...`, each followed by the output it shows (stdout, then stderr).
  The command runs in this process (seqlab.cli.main), in a fresh folder, with an 80-column terminal.
- `pycon`: a doctest session (`>>>` and `...` lines, then the output), run by the standard library's doctest.
- `python`: run top to bottom in a fresh folder; when the next block is marked `<!-- output -->`, what the
  code prints must be that block.

Shown output is compared as doctest does with ELLIPSIS and NORMALIZE_WHITESPACE: `...` stands for any text
(lines included), and runs of spaces and newlines compare equal. Figures that change from run to run are not
examples: they are shown with their command and date.
"""

from __future__ import annotations

import doctest
import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MARK = re.compile(r"^<!--\s*(example|output)\b(.*?)-->\s*$")
FENCE = re.compile(r"^(`{3,})\s*([\w-]*)\s*$")
KINDS = ("console", "pycon", "python")
FLAGS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE


@dataclass
class Example:
    """One marked block: where it is, its language and code, its options, and the output shown after it."""

    path: Path
    line: int            # 1-based line of the block's opening fence
    kind: str
    code: str
    needs: list[str] = field(default_factory=list)
    exit: int = 0
    output: str | None = None   # a python block's following `<!-- output -->` block

    @property
    def id(self) -> str:
        return f"{self.path.relative_to(ROOT)}:{self.line}"


def documents() -> list[Path]:
    """README.md and every Markdown page of docs/, in a stable order."""

    return [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]


def _blocks(lines: list[str]):
    """(mark name, mark options, opening line, language, body) of every fence that follows a mark line."""

    i = 0
    while i < len(lines):
        mark = MARK.match(lines[i])
        fence = FENCE.match(lines[i + 1]) if mark and i + 1 < len(lines) else None
        if mark and not fence:
            raise ValueError(f"line {i + 1}: <!-- {mark.group(1)} --> must be followed at once by a ``` block")
        if not mark:
            i += 1
            continue
        ticks, lang = fence.group(1), fence.group(2)
        end = next((j for j in range(i + 2, len(lines)) if lines[j].strip() == ticks), None)
        if end is None:
            raise ValueError(f"line {i + 2}: the block is never closed")
        yield mark.group(1), mark.group(2).strip(), i + 2, lang, "\n".join(lines[i + 2:end]) + "\n"
        i = end + 1


def _options(text: str, where: str) -> dict:
    options = {}
    for word in text.split():
        key, _, value = word.partition("=")
        if key == "needs" and value:
            options["needs"] = value.split(",")
        elif key == "exit" and value.isdigit():
            options["exit"] = int(value)
        else:
            raise ValueError(f"{where}: unknown example option {word!r} (needs=NAME[,NAME], exit=N)")
    return options


def examples(path: Path, text: str | None = None) -> list[Example]:
    """Every example of one Markdown file (of `text`, when given, as if it were that file's); a mark that is
    malformed or out of place raises ValueError."""

    text = path.read_text(encoding="utf-8") if text is None else text
    found: list[Example] = []
    for name, opts, line, lang, body in _blocks(text.splitlines()):
        where = f"{path.relative_to(ROOT)}:{line}"
        if name == "output":
            if not found or found[-1].kind != "python" or found[-1].output is not None:
                raise ValueError(f"{where}: an output block must follow a python example")
            found[-1].output = body
            continue
        if lang not in KINDS:
            raise ValueError(f"{where}: an example must be a {', '.join(KINDS)} block, not {lang or 'plain'!r}")
        found.append(Example(path, line, lang, body, **_options(opts, where)))
    return found


def console_commands(code: str) -> list[tuple[list[str], str]]:
    """[(argv after `seqlab`, the output shown)] of a console block; every command must be `seqlab ...`."""

    commands: list[tuple[list[str], list[str]]] = []
    for line in code.splitlines():
        if line.startswith("$ "):
            argv = shlex.split(line[2:])
            if argv[:1] != ["seqlab"]:
                raise ValueError(f"only `$ seqlab ...` commands are run, not {line!r}")
            commands.append((argv[1:], []))
        elif not commands:
            raise ValueError(f"a console example starts with `$ seqlab ...`, not {line!r}")
        else:
            commands[-1][1].append(line)
    return [(argv, "\n".join(shown) + "\n" if shown else "") for argv, shown in commands]


def matches(want: str, got: str) -> bool:
    """Whether `got` is the shown output `want`, `...` standing for anything (doctest's own rules)."""

    return doctest.OutputChecker().check_output(want, got, FLAGS)


def difference(want: str, got: str) -> str:
    example = doctest.Example("", want)
    return doctest.OutputChecker().output_difference(example, got, FLAGS)


def run_pycon(example: Example) -> str:
    """Run a doctest session; '' when every shown output matched, else doctest's report."""

    test = doctest.DocTestParser().get_doctest(example.code, {"__name__": "__doc_example__"}, example.id,
                                               str(example.path), example.line)
    report: list[str] = []
    runner = doctest.DocTestRunner(optionflags=FLAGS)
    runner.run(test, out=report.append, clear_globs=True)
    return "".join(report)
