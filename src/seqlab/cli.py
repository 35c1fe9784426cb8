"""The `seqlab` command: one sub-command per module in `seqlab.commands`.

Each command module defines `register(subparsers)`, which adds its parser and sets `func` to a function
taking the parsed arguments and returning an exit status. Heavy imports (music21, matplotlib) happen inside
those functions so that `seqlab --help` stays quick.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from seqlab import __version__
from seqlab.errors import UserError

# Order here is the order in `seqlab --help`.
COMMAND_MODULES = [
    "check",
    "bench",
    "data",
    "train",
    "sample",
    "eval",
    "export",
    "import_torch",
    "names",
    "poem",
    "jazz",
    "serve",
    "explore",
    "course",
]


def seed(text: str) -> int:
    """The type of every --seed: a whole number, at least 0 (NumPy's generators refuse negative seeds)."""
    value = int(text)   # a ValueError: argparse's "invalid seed value: 'x'"
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be at least 0, got {value}")
    return value


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line on stderr and exit status 2; the parsed arguments name the
    (sub-)command's parser in `_prog`, so that an unknown flag is reported by the command it was given to."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.set_defaults(_prog=self.prog)

    def error(self, message: str):  # noqa: D401 - argparse API
        sys.stderr.write(f"{self.prog}: error: {message} (see `{self.prog} --help`)\n")
        sys.exit(2)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="seqlab", description=
        "Recurrent sequence models in NumPy, and the course's generative applications.")
    parser.add_argument("--version", action="version", version=f"seqlab {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(f"seqlab.commands.{name}")
        except ModuleNotFoundError as exc:  # a command still being written
            if exc.name == f"seqlab.commands.{name}":
                continue
            raise
        module.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args, unknown = parser.parse_known_args(argv)
    prog = vars(args).pop("_prog")
    if unknown:   # argparse would blame `seqlab` itself, whatever sub-command they were given to
        _Parser(prog=prog).error(f"unrecognized arguments: {' '.join(unknown)}")
    if not getattr(args, "func", None):
        parser.print_help()
        return 0
    try:
        status = args.func(args)
    except UserError as exc:
        sys.stderr.write(f"{prog}: error: {exc}\n")   # "seqlab explore cells: error: ...", as argparse's
        return exc.exit_status
    except KeyboardInterrupt:
        sys.stderr.write("seqlab: interrupted\n")
        return 130
    except BrokenPipeError:
        return 0
    return int(status or 0)


if __name__ == "__main__":
    sys.exit(main())
