"""`seqlab poem`: complete the beginning of a poem with the bundled Shakespeare model."""

from __future__ import annotations

import argparse
import sys

from seqlab.cli import seed
from seqlab.errors import UserError

# The modules that need NumPy (seqlab.text, .music, .engine ...) are imported inside the functions that use
# them: cli.py imports every command module to build its parser, and `seqlab --help` should not wait for them.

QUESTION = "Write the beginning of your poem, the Shakespeare machine will complete it. Your input is: "
MAX_LENGTH = 100_000  # characters of a poem: a typo's 10**9 is an error, not hours of sampling
# Free verse's sampling when neither --temperature nor --top-p is given, chosen by bench/poem_defaults.py
# (docs/poems-form.md): the most varied setting measured whose words are Shakespeare's at a rate of 0.975 or
# more (0.976, against 0.890 for plain sampling).
DEFAULT_TEMPERATURE = 0.7
DEFAULT_TOP_P = None
BEAM_NO_REPEAT = 2  # a beam's default --no-repeat-ngram


def register(subparsers) -> None:

    from seqlab.commands.poem_form import add_form_options
    from seqlab.commands.sample import add_generation_options, add_top_p

    p = subparsers.add_parser(
        "poem", help="complete a Shakespearean poem (bundled model, works offline)",
        description="Complete the beginning of a poem with the character-level LSTM bundled in the package "
                    "(trained on 90% of Shakespeare's sonnets). Prints PROMPT as typed followed by at least "
                    "--length characters, stopping at the end of a line. Without PROMPT it asks for the "
                    "beginning, as the course does. The prompt is lower-cased for the model; a character "
                    "the model does not know is an error. The poem is printed as it is written unless "
                    "--no-stream; --beam K writes the likeliest completion instead of sampling one. With --form "
                    "(sonnet, quatrain, couplet) or --rhyme-scheme, PROMPT is the first line of a rhymed poem "
                    "whose every line the model writes under the form's rhyme and syllables; its report goes "
                    "to stderr.")
    p.add_argument("prompt", nargs="?", metavar="PROMPT", help="the beginning of the poem")
    p.add_argument("--temperature", type=float, default=None, metavar="T",
                   help="below 1: safer choices, above 1: wilder; 1 is plain sampling (default, with "
                        f"neither this nor --top-p: {DEFAULT_TEMPERATURE}; 0.8 for a form's candidates)")
    p.add_argument("--top-k", type=int, default=None, metavar="K", help="sample only among the K likeliest")
    add_top_p(p)
    p.add_argument("--length", type=int, default=400, metavar="N",
                   help="at least this many characters after the prompt (%(default)s)")
    p.add_argument("--seed", type=seed, default=None, help="seed for the same poem every time")
    add_generation_options(p, "--length")
    p.add_argument("--no-repeat-ngram", type=int, default=None, metavar="N",
                   help="no word N-gram twice (sampling and --beam; 0: off). Default: off when sampling, "
                        f"{BEAM_NO_REPEAT} with --beam, whose likeliest poem otherwise loops")
    add_form_options(p)
    p.add_argument("--model", default=None, help=argparse.SUPPRESS)   # None: the bundled one, always
    p.set_defaults(func=run)


def ask() -> str:
    try:
        return input(QUESTION)
    except EOFError:
        raise UserError("no beginning of a poem was given; pass it as PROMPT or type it when asked") from None


def run(args) -> int:
    from seqlab.commands.poem_form import check_form_args, check_free_args, run_form, wants_form
    from seqlab.commands.sample import check_beam, load_text_model, read_prompt_file
    from seqlab.errors import UserError
    from seqlab.text.ngrams import check_no_repeat
    from seqlab.text.poem import complete
    from seqlab.text.sampling import check_options

    if wants_form(args):
        check_form_args(args)
        return run_form(args, load_text_model(args.model, "shakespeare"))
    check_free_args(args)
    if not 1 <= args.length <= MAX_LENGTH:
        raise UserError(f"--length must be between 1 and {MAX_LENGTH:,}, got {args.length}")
    if args.beam is not None:
        args.temperature = 1.0 if args.temperature is None else args.temperature   # given: refused just below
        check_beam(args)
        no_repeat = BEAM_NO_REPEAT if args.no_repeat_ngram is None else args.no_repeat_ngram
    else:
        if args.temperature is None and args.top_p is None:     # --temperature 1 alone: plain sampling
            args.temperature, args.top_p = DEFAULT_TEMPERATURE, DEFAULT_TOP_P
        args.temperature = 1.0 if args.temperature is None else args.temperature
        no_repeat = args.no_repeat_ngram
    if no_repeat is not None and no_repeat != 0:
        check_no_repeat(no_repeat)
    no_repeat = no_repeat or None
    check_options(args.temperature, args.top_k, args.length, args.top_p)
    if args.prompt_file is not None and args.prompt is not None:
        raise UserError("give either PROMPT or --prompt-file, not both")
    lm = load_text_model(args.model, "shakespeare")
    asked = args.prompt is None and args.prompt_file is None
    prompt = read_prompt_file(args.prompt_file) if args.prompt_file is not None else \
        ask() if asked else args.prompt
    lm.encode(prompt)  # a character outside the vocabulary: UserError naming it, before any output
    out = sys.stdout
    out.write(("\nHere is your poem:\n\n" if asked else "") + prompt)
    out.flush()

    def show(text: str) -> None:
        out.write(text)
        out.flush()

    poem = complete(lm, prompt, args.length, args.temperature, args.seed, top_k=args.top_k, top_p=args.top_p,
                    beam=args.beam, no_repeat_ngram=no_repeat, on_char=None if args.no_stream else show)
    if args.no_stream:
        out.write(poem)
    out.write("" if poem.endswith("\n") else "\n")
    return 0
