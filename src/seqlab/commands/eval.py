"""`seqlab eval`: nats per character of a text file under a trained model."""

from __future__ import annotations

import json

# The modules that need NumPy (seqlab.text, .music, .engine ...) are imported inside the functions that use
# them: cli.py imports every command module to build its parser, and `seqlab --help` should not wait for them.


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "eval", help="score a text file: mean nats per predicted character",
        description="Mean negative log-likelihood of FILE under MODEL, in nats per predicted character, with "
                    "the model's own normalisation and mode: a `lines` model reads every line from a fresh "
                    "state and counts the end of each line as a predicted character; a `stream` model reads "
                    "the whole file as one sequence, state carried.")
    p.add_argument("model", metavar="MODEL", help="checkpoint file or bundled model name (e.g. dinos)")
    p.add_argument("file", metavar="FILE", help="UTF-8 text file or dataset name (e.g. shakespeare) to score")
    p.add_argument("--json", action="store_true", help='print only {"nats_per_char": ..., "chars": ...}')
    p.set_defaults(func=run)


def run(args) -> int:

    from seqlab.commands.sample import load_text_model
    from seqlab.data import resolve_corpus
    from seqlab.text.evaluate import evaluate_file

    lm = load_text_model(args.model)
    result = evaluate_file(lm, resolve_corpus(args.file, suffix=".txt"))
    if args.json:
        print(json.dumps({"nats_per_char": result["nats_per_char"], "chars": result["chars"]}))
    else:
        print(f"{result['nats_per_char']:.4f} nats per character over {result['chars']} predicted characters "
              f"({lm.mode} mode)")
    return 0
