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


def reference():
    """The training text (the sonnets, lower-cased) and the words of the sonnets and the plays, when the
    datasets are in the cache: (text or None, words or None)."""
    from seqlab import data
    from seqlab.text.prosody import words_of

    if not data.is_present("shakespeare"):
        return None, None
    text = data.path("shakespeare").read_text(encoding="utf-8").lower()
    words = set(words_of(text))
    if data.is_present("tinyshakespeare"):
        words |= set(words_of(data.path("tinyshakespeare").read_text(encoding="utf-8")))
    return text, words


def run_form(args, lm) -> int:
    import numpy as np

    from seqlab.pretrained.lexicon import shakespeare_words
    from seqlab.text.form import SCHEMES, write_form
    from seqlab.text.poem_report import report

    scheme = args.rhyme_scheme if args.rhyme_scheme is not None else SCHEMES[args.form]
    seed = args.seed if args.seed is not None else int(np.random.default_rng().integers(2**32 - 1))
    temperature = args.temperature if args.temperature is not None else 0.8
    start = time.perf_counter()
    lines = []
    for line in write_form(lm, args.prompt, scheme, args.syllables, candidates=args.candidates,
                           temperature=temperature, top_p=args.top_p, seed=seed,
                           words=shakespeare_words() if args.model == "shakespeare" else None):
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


def describe(rep: dict, target: int) -> str:
    """The report in a few lines of text."""
    pairs = rep["rhyme_pairs"]
    near = sum(abs(s - target) <= 1 for s in rep["syllables"])
    run = rep["longest_copied_run"]
    lines = [
        f"{rep['form']} {rep['scheme']}, seed {rep['seed']}, {len(rep['lines'])} lines in {rep['seconds']:.1f} s "
        f"({rep['candidates']} candidates a line at temperature {rep['temperature']})",
        "  rhyme letters: " + " ".join(rep["letters"]),
        "  syllables:     " + " ".join(str(s) for s in rep["syllables"]) +
        f"  ({near} of {len(rep['syllables'])} at {target - 1}-{target + 1})",
        f"  rhymes held:   {rep['rhymes_held']} of {len(pairs)}: " +
        ", ".join(f"{a}/{b}" + ("" if p["held"] else " (not a rhyme)") for p in pairs for a, b in [p["words"]]),
        f"  real words:    {rep['real_word_rate']:.3f} (against {rep['real_words_against']})",
        f"  the model's nats/char of its own poem: {rep['nats_per_char']:.3f}",
        "  longest run copied from the sonnets: " +
        ("not measured (the shakespeare dataset is not in the cache)" if run is None else
         f"{run['chars']} characters {run['text']!r}"),
    ]
    return "\n".join(lines) + "\n"
