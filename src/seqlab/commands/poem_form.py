"""`seqlab poem --form sonnet` (or quatrain, couplet, --rhyme-scheme): the poem line by line on stdout as each
is chosen, and its report on stderr (or everything as one JSON object with --json)."""

from __future__ import annotations

import json
import sys
import time

FORMS = ("free", "sonnet", "quatrain", "couplet")


def add_form_options(p) -> None:
    p.add_argument("--form", choices=FORMS, default="free",
                   help="free: complete the prompt (default); sonnet, quatrain, couplet: the prompt is line 1 "
                        "of a rhymed poem in that form, written line by line (see docs/poems-form.md)")
    p.add_argument("--rhyme-scheme", metavar="LETTERS", default=None,
                   help="a scheme of one's own, such as 'abab cdcd' (implies a form; letters, spaces ignored)")
    p.add_argument("--syllables", type=int, default=10, metavar="N",
                   help="syllables a line in a form, give or take one (%(default)s)")
    p.add_argument("--candidates", type=int, default=128, metavar="K",
                   help="candidate lines sampled side by side for each line of a form (%(default)s)")
    p.add_argument("--json", action="store_true", help="a form's poem and report as one JSON object on stdout")


def wants_form(args) -> bool:
    return args.form != "free" or args.rhyme_scheme is not None


def check_free_args(args) -> None:
    """A form's flags beside free verse: refused, not ignored."""
    from seqlab.errors import UserError

    for flag, given in (("--json", args.json), ("--syllables", args.syllables != 10),
                        ("--candidates", args.candidates != 128)):
        if given:
            raise UserError(f"{flag} applies to a poem in a form; add --form sonnet (or quatrain, couplet)")


def check_form_args(args) -> None:
    """The flags a form cannot use, refused in one line each."""
    from seqlab.errors import UserError

    for flag, given in (("--beam", args.beam is not None), ("--top-k", args.top_k is not None),
                        ("--prompt-file", args.prompt_file is not None),
                        ("--no-repeat-ngram", args.no_repeat_ngram is not None),
                        ("--length", args.length != 400)):
        if given:
            raise UserError(f"{flag} does not apply to a poem in a form (its lines are searched for, one by "
                            f"one); leave it out, or use --form free")
    if args.prompt is None:
        raise UserError("a poem in a form needs PROMPT: its first line, whose last word sets the first rhyme")


def run_form(args, lm) -> int:
    import numpy as np

    from seqlab.pretrained.lexicon import shakespeare_words
    from seqlab.text.form import SCHEMES, write_form
    from seqlab.text.poem_report import describe, reference, report

    scheme = args.rhyme_scheme if args.rhyme_scheme is not None else SCHEMES[args.form]
    seed = args.seed if args.seed is not None else int(np.random.default_rng().integers(2**32 - 1))
    temperature = args.temperature if args.temperature is not None else 0.8
    start = time.perf_counter()
    lines = []
    for line in write_form(lm, args.prompt, scheme, args.syllables, candidates=args.candidates,
                           temperature=temperature, top_p=args.top_p, seed=seed,
                           words=shakespeare_words() if args.model in (None, "shakespeare") else None):
        lines.append(line)
        if not args.json:
            print(line.text, flush=True)
    seconds = time.perf_counter() - start
    source, known = reference()
    rep = {"form": args.form if args.rhyme_scheme is None else "scheme", "scheme": scheme, "seed": seed,
           "temperature": temperature, "candidates": args.candidates,
           **report(lm, lines, known, source, seconds)}
    if args.json:
        print(json.dumps(rep, indent=1))
    else:
        sys.stderr.write(describe(rep, args.syllables))
    return 0
