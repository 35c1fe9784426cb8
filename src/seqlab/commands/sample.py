"""`seqlab sample`: generate text from a trained character-level model."""

from __future__ import annotations

import sys

# The modules that need NumPy (seqlab.text, .music, .engine ...) are imported inside the functions that use
# them: cli.py imports every command module to build its parser, and `seqlab --help` should not wait for them.


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "sample", help="sample text from a trained character model",
        description="Sample from MODEL (a checkpoint path or a bundled model name). A `lines` model gives "
                    "N lines, each ending at its first end of line; a `stream` model gives N passages of "
                    "--max-len characters. The count of lines not in the training data goes to stderr.")
    p.add_argument("model", metavar="MODEL", help="checkpoint file or bundled model name (e.g. dinos)")
    add_sampling_options(p, n=5, max_len=None)
    p.set_defaults(func=run)


def add_sampling_options(p, n: int, max_len: int | None) -> None:
    p.add_argument("-n", type=int, default=n, metavar="N", help="how many samples (%(default)s)")
    p.add_argument("--temperature", type=float, default=1.0, metavar="T",
                   help="below 1: safer choices, above 1: wilder (%(default)s)")
    p.add_argument("--top-k", type=int, default=None, metavar="K", help="sample only among the K likeliest")
    p.add_argument("--prefix", default="", metavar="S", help="text each sample continues")
    p.add_argument("--max-len", type=int, default=max_len, metavar="L",
                   help="most characters generated per sample (lines: 100, stream: 400)")
    p.add_argument("--seed", type=int, default=None, help="seed for reproducible samples")


def draw(lm, args) -> list[str]:
    """The samples asked for by the options of `add_sampling_options` (lines include the prefix)."""
    from seqlab.text.sampling import generate

    max_len = args.max_len if args.max_len is not None else (100 if lm.mode == "lines" else 400)
    cont = generate(lm, args.n, prefix=args.prefix, max_len=max_len, temperature=args.temperature,
                    top_k=args.top_k, seed=args.seed)
    return [lm.normalize(args.prefix) + c for c in cont]


def report_novelty(lm, lines: list[str]) -> None:
    from seqlab.text.sampling import novelty

    if lm.mode == "lines" and lm.training_lines is not None:
        new = novelty(lines, lm.training_lines)
        sys.stderr.write(f"{new} of {len(lines)} not in the training data\n")


def run(args) -> int:
    from seqlab.text.model import load_model

    lm = load_model(args.model)
    lines = draw(lm, args)
    for s in lines:
        print(s)
    report_novelty(lm, lines)
    return 0
