"""`seqlab poem`: complete the beginning of a poem with the bundled Shakespeare model."""

from __future__ import annotations

import argparse
import sys

from seqlab.errors import UserError

# The modules that need NumPy (seqlab.text, .music, .engine ...) are imported inside the functions that use
# them: cli.py imports every command module to build its parser, and `seqlab --help` should not wait for them.

QUESTION = "Write the beginning of your poem, the Shakespeare machine will complete it. Your input is: "
MAX_EXTRA = 400  # how far past --length the completion may run while looking for the end of a line


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "poem", help="complete a Shakespearean poem (bundled model, works offline)",
        description="Complete the beginning of a poem with the character-level LSTM bundled in the package "
                    "(trained on 90% of Shakespeare's sonnets). Prints PROMPT as typed followed by at least "
                    "--length characters, stopping at the end of a line. Without PROMPT it asks for the "
                    "beginning, as the course does. The prompt is lower-cased for the model; a character "
                    "the model does not know is an error.")
    p.add_argument("prompt", nargs="?", metavar="PROMPT", help="the beginning of the poem")
    p.add_argument("--temperature", type=float, default=1.0, metavar="T",
                   help="below 1: safer choices, above 1: wilder (%(default)s)")
    p.add_argument("--length", type=int, default=400, metavar="N",
                   help="at least this many characters after the prompt (%(default)s)")
    p.add_argument("--seed", type=int, default=None, help="seed for the same poem every time")
    p.add_argument("--model", default="shakespeare", help=argparse.SUPPRESS)
    p.set_defaults(func=run)


def complete(lm, prompt: str, length: int, temperature: float = 1.0, seed: int | None = None) -> str:
    """The completion of `prompt`: at least `length` characters, cut after the first end of line from there
    on (or at length + MAX_EXTRA characters when no line ends by then)."""
    from seqlab.text.sampling import generate

    text = generate(lm, 1, prefix=prompt, max_len=length + MAX_EXTRA, temperature=temperature, seed=seed,
                    stop_at_newline=False)[0]
    end = text.find("\n", length - 1)
    return text[:end + 1] if end >= 0 else text


def ask() -> str:
    try:
        return input(QUESTION)
    except EOFError:
        raise UserError("no beginning of a poem was given; pass it as PROMPT or type it when asked") from None


def run(args) -> int:
    from seqlab.text.model import load_model

    if args.length < 1:
        raise UserError(f"--length must be at least 1, got {args.length}")
    lm = load_model(args.model)
    asked = args.prompt is None
    prompt = ask() if asked else args.prompt
    lm.encode(prompt)  # a character outside the vocabulary: UserError naming it, before any output
    poem = complete(lm, prompt, args.length, args.temperature, args.seed)
    if asked:
        sys.stdout.write("\nHere is your poem:\n\n")
    sys.stdout.write(prompt + poem + ("" if poem.endswith("\n") else "\n"))
    return 0
