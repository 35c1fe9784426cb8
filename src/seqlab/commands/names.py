"""`seqlab names`: invent dinosaur names with the bundled model."""

from __future__ import annotations

import argparse

from seqlab.commands.sample import add_sampling_options, check_counts, draw, load_text_model, report_novelty

# The modules that need NumPy (seqlab.text, .music, .engine ...) are imported inside the functions that use
# them: cli.py imports every command module to build its parser, and `seqlab --help` should not wait for them.


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "names", help="invent dinosaur names (bundled model, works offline)",
        description="Invent dinosaur names with the LSTM bundled in the package (trained on 1,383 of the "
                    "course's 1,536 names). How many are new (not among the training names) goes to stderr.")
    add_sampling_options(p, n=10, max_len=40)
    # for trying a retrained model; without it, the bundled one even when the current folder holds a `dinos`
    p.add_argument("--model", default=None, help=argparse.SUPPRESS)
    p.set_defaults(func=run)


def run(args) -> int:
    lm = load_text_model(args.model, "dinos")
    check_counts(args, lm)
    names = draw(lm, args)
    for s in names:
        print(s.capitalize())
    report_novelty(lm, names, args)
    return 0
