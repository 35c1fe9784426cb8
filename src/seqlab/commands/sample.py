"""`seqlab sample`: generate text from a trained character-level model."""

from __future__ import annotations

import sys

from seqlab.cli import seed

# The modules that need NumPy (seqlab.text, .music, .engine ...) are imported inside the functions that use
# them: cli.py imports every command module to build its parser, and `seqlab --help` should not wait for them.


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "sample", help="sample text from a trained character model",
        description="Sample from MODEL (a checkpoint path or a bundled model name). A `lines` model gives "
                    "N lines, each ending at its first end of line; a `stream` model gives N passages of "
                    "--max-len characters. Text is printed as it is generated (the first sample character "
                    "by character, the others as each is complete) unless --no-stream. --beam K prints the "
                    "likeliest continuation instead (with -n N, up to the N likeliest the beam finished). The count of "
                    "lines not in the training data goes to stderr.")
    p.add_argument("model", metavar="MODEL", help="checkpoint file or bundled model name (e.g. dinos)")
    add_sampling_options(p, n=None, max_len=None)
    add_generation_options(p, "--max-len")
    p.set_defaults(func=run)


def load_text_model(name_or_path: str | None, bundled: str | None = None):
    """The model a MODEL argument or --model names; None: the bundled model `bundled`, whatever the current
    folder holds. When a checkpoint in the current folder shadows a bundled model's name, stderr says which
    file was loaded (it used to happen without a word)."""
    from seqlab.errors import UserError
    from seqlab.text.model import bundled_model, load_model

    if name_or_path is None:
        path = bundled_model(bundled)
        if path is None:
            raise UserError(f"the bundled model {bundled} is not installed; run `make models`")
        return load_model(path)
    return load_model(say_shadowing(name_or_path))


def say_shadowing(name_or_path: str):
    """The model file MODEL names (seqlab.text.model.resolve_model), said on stderr when it is a checkpoint in
    the current folder that shadows the bundled model of that name."""
    from seqlab.text.model import bundled_model, resolve_model

    path = resolve_model(name_or_path)
    shadowed = bundled_model(name_or_path)
    if shadowed is not None and path != shadowed:
        sys.stderr.write(f"{name_or_path}: loaded the file {path.resolve()}, not the bundled model of that name "
                         f"(a checkpoint in this folder comes first; rename it to get the bundled one)\n")
    return path


def add_sampling_options(p, n: int | None, max_len: int | None) -> None:
    p.add_argument("-n", type=int, default=n, metavar="N",
                   help=f"how many samples ({n if n is not None else '5; 1 with --beam'})")
    p.add_argument("--temperature", type=float, default=1.0, metavar="T",
                   help="below 1: safer choices, above 1: wilder (%(default)s)")
    p.add_argument("--top-k", type=int, default=None, metavar="K", help="sample only among the K likeliest")
    add_top_p(p)
    p.add_argument("--prefix", default="", metavar="S", help="text each sample continues")
    p.add_argument("--max-len", type=int, default=max_len, metavar="L",
                   help=f"most characters generated per sample "
                        f"({max_len if max_len is not None else 'a lines model: 100, a stream model: 400'})")
    p.add_argument("--seed", type=seed, default=None, help="seed for reproducible samples")


def add_top_p(p) -> None:
    p.add_argument("--top-p", type=float, default=None, metavar="P",
                   help="nucleus sampling: only among the likeliest characters whose probabilities add up "
                        "to P (0 < P <= 1)")


def add_generation_options(p, length_flag: str) -> None:
    """--beam, --prompt-file and --no-stream (sample and poem)."""
    p.add_argument("--beam", type=int, default=None, metavar="K",
                   help=f"beam search of width K for the likeliest continuation of {length_flag} "
                        f"characters (deterministic; the sampling options do not apply)")
    p.add_argument("--prompt-file", metavar="FILE", help="read the text to continue from FILE (it may hold "
                                                         "newlines)")
    p.add_argument("--no-stream", action="store_true", help="print only when the text is complete")


def read_prompt_file(path: str) -> str:
    """The text of a --prompt-file, exactly (a trailing newline included); UserError when unusable."""
    from seqlab.errors import UserError
    from seqlab.text.corpus import read_text

    try:
        return read_text(path)
    except UserError as exc:
        raise UserError(f"--prompt-file: {exc}") from None


def check_beam(args) -> None:
    """--beam's width, and no sampling option beside it: a beam search chooses no character at random, so
    --temperature, --top-k, --top-p and --seed would be ignored."""
    from seqlab.errors import UserError
    from seqlab.text import sampling

    if args.beam is None:
        return
    sampling.check_beam(args.beam, "--beam")
    given = [flag for flag, value, default in (("--temperature", args.temperature, 1.0), ("--top-k", args.top_k, None),
                                               ("--top-p", args.top_p, None), ("--seed", args.seed, None))
             if value != default]
    if given:
        raise UserError(f"{' and '.join(given)} {'does' if len(given) == 1 else 'do'} not apply with --beam: a beam "
                        f"search finds the likeliest completion, the same every time (leave out --beam to sample)")


def check_counts(args, lm) -> None:
    """-n and --max-len of `add_sampling_options` for the model `lm`, named as the user typed them."""
    from seqlab.text import sampling

    max_len = _max_len(lm, args)
    sampling.check_length(max_len, "--max-len")
    sampling.check_count(args.n, max_len, ("-n", "--max-len"))


def draw(lm, args) -> list[str]:
    """The samples asked for by the options of `add_sampling_options` (lines include the prefix)."""
    from seqlab.text.sampling import generate

    cont = generate(lm, args.n, prefix=args.prefix, max_len=_max_len(lm, args), temperature=args.temperature,
                    top_k=args.top_k, top_p=args.top_p, seed=args.seed)
    return [lm.normalize(args.prefix) + c for c in cont]


def _max_len(lm, args) -> int:
    return args.max_len if args.max_len is not None else (100 if lm.mode == "lines" else 400)


def report_novelty(lm, lines: list[str], args) -> None:
    """On stderr, for a lines model: how many distinct lines `lines` holds and how many of those are not
    training lines (a name drawn twice is one new name, not two), and how many of those were cut off at
    --max-len (a name not finished is not a new name)."""
    from seqlab.text.sampling import novelty, novelty_summary

    if lm.mode != "lines":
        return
    if lm.training_lines is None:
        sys.stderr.write("novelty not counted: the model holds no training lines (an imported model)\n")
        return
    start, max_len = len(lm.normalize(args.prefix)), _max_len(lm, args)
    cut = sum(1 for s in set(lines) if len(s) - start >= max_len and s not in lm.training_lines)
    said = f" ({cut} of them cut off at --max-len {max_len})" if cut else ""
    sys.stderr.write(f"{novelty_summary(len(lines), len(set(lines)), novelty(lines, lm.training_lines))}{said}\n")


def _beam_lines(lm, args) -> list[str]:
    from seqlab.errors import UserError
    from seqlab.text.sampling import beam_search

    if args.n > args.beam:
        raise UserError(f"-n {args.n} is more than the beam keeps (--beam {args.beam})")
    found = beam_search(lm, args.prefix, _max_len(lm, args), args.beam)
    if len(found) < args.n:
        sys.stderr.write(f"the beam found {len(found)} of the -n {args.n} asked for: it stops once a finished "
                         f"continuation is likelier than every open one\n")
    start = lm.normalize(args.prefix)
    return [start + (text[:-1] if lm.mode == "lines" and text.endswith("\n") else text)
            for text, _ in found[:args.n]]


def _stream_lines(lm, args, out) -> list[str]:
    """Sample as `draw` does, writing the first sample as its characters come and each other when complete."""
    import numpy as np

    from seqlab.text.sampling import sample_steps

    start = lm.normalize(args.prefix)
    n = args.n
    texts = [[] for _ in range(n)]
    done = np.zeros(n, bool)
    shown = 0
    steps = sample_steps(lm, n, prefix=args.prefix, max_len=_max_len(lm, args), temperature=args.temperature,
                         top_k=args.top_k, top_p=args.top_p, seed=args.seed,
                         stop_at_newline=lm.mode == "lines")   # bad options: an error before any output
    out.write(start)
    out.flush()
    for nxt, ended in steps:
        for i in np.flatnonzero(~done & ~ended):
            texts[i].append(lm.vocab.chars[nxt[i]])
        if not done[0] and not ended[0]:
            out.write(texts[0][-1])
            out.flush()
        done |= ended
        shown = _show_finished(out, start, texts, done, shown)
    done[:] = True
    _show_finished(out, start, texts, done, shown)
    return [start + "".join(t) for t in texts]


def _show_finished(out, start: str, texts, done, shown: int) -> int:
    """Write the finished samples from `shown` on, in order (sample 0 has been written as it came)."""
    while shown < len(texts) and done[shown]:
        out.write("\n" if shown == 0 else start + "".join(texts[shown]) + "\n")
        out.flush()
        shown += 1
    return shown


def run(args) -> int:
    from seqlab.errors import UserError

    check_beam(args)
    if args.prompt_file is not None:
        if args.prefix:
            raise UserError("give either --prefix or --prompt-file, not both")
        args.prefix = read_prompt_file(args.prompt_file)
    if args.n is None:
        args.n = 1 if args.beam else 5
    lm = load_text_model(args.model)
    check_counts(args, lm)
    if args.beam:
        lines = _beam_lines(lm, args)
    elif not args.no_stream:
        lines = _stream_lines(lm, args, sys.stdout)
        report_novelty(lm, lines, args)
        return 0
    else:
        lines = draw(lm, args)
    for s in lines:
        print(s)
    report_novelty(lm, lines, args)
    return 0
