"""`seqlab explore`: see what the lectures say — gradient flow, long-range memory, cells, sampling.

Each explorer computes with seqlab.explore and writes a figure (-o FILE), the numbers as JSON (--json) or a
short table on stdout.
"""

from __future__ import annotations

import sys

from seqlab.cli import seed
from seqlab.commands.sample import load_text_model

EXPLORERS = ("gradients", "memory", "cells", "sampling")


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "explore", help="see what the lectures say: gradients, memory, cells, sampling",
        description="Compute and draw what the course's lectures claim, with the engine's own forward and "
                    "backward passes. Each explorer has -o FILE (a figure), --json and --seed.")
    sub = p.add_subparsers(dest="explorer", metavar="EXPLORER", parser_class=type(p))
    for name in EXPLORERS:
        globals()[f"_register_{name}"](sub)
    p.set_defaults(func=lambda args: (p.print_help(), 0)[1])


def _common(p, out_help: str, seed_help: str = "random seed (%(default)s)") -> None:
    p.add_argument("-o", "--output", metavar="FILE", help=out_help)
    p.add_argument("--json", action="store_true", help="print only the numbers, as JSON, on stdout")
    p.add_argument("--seed", type=seed, default=0, help=seed_help)


def _model_argument(p) -> None:
    p.add_argument("model", metavar="MODEL", help="a seqlab text model: checkpoint path or bundled name")


def _wrote(*paths) -> None:
    for path in paths:
        if path:
            sys.stderr.write(f"wrote {path}\n")


# --- gradients ---------------------------------------------------------------------------------------------
# The settings of the freshly initialised cells, which --model replaces by a trained model's own
SYNTHETIC = {"cells": "rnn,gru,lstm,lstm-fb1", "hidden": 64, "scale": 1.0}


def _register_gradients(sub) -> None:
    p = sub.add_parser(
        "gradients", help="how the last step's gradient reaches back through time",
        description="For each cell with the engine's standard initialisation (Glorot input weights, "
                    "orthogonal recurrent weights), random unit-variance inputs and a loss whose gradient is "
                    "a random unit vector on the last hidden state: the mean over the batch of ‖∂L/∂a⟨t⟩‖ "
                    "(and ‖∂L/∂c⟨t⟩‖ for LSTMs) against the distance T − t. --model and --text instead run "
                    "a trained text model over the first --steps characters of a text.")
    p.add_argument("--cells", default=SYNTHETIC["cells"], metavar="LIST",
                   help="any of rnn, gru, lstm (forget bias 0), lstm-fb1 (forget bias 1) (%(default)s)")
    p.add_argument("--hidden", type=int, default=SYNTHETIC["hidden"],
                   help="units (and input size) per cell (%(default)s)")
    p.add_argument("--steps", type=int, default=100, help="sequence length T (%(default)s)")
    p.add_argument("--batch", type=int, default=32, help="sequences averaged over (%(default)s)")
    p.add_argument("--scale", type=float, default=SYNTHETIC["scale"], metavar="S",
                   help="multiply the recurrent weights by S (3 shows gradients exploding) (%(default)s)")
    p.add_argument("--model", metavar="MODEL", help="a trained text model (path or bundled name) instead")
    p.add_argument("--text", metavar="FILE", help="the text the model reads (with --model): a UTF-8 file or a "
                                                  "dataset name (shakespeare, dinos, tinyshakespeare)")
    _common(p, "write the figure to FILE (.png or .svg)")
    p.set_defaults(func=run_gradients)


def run_gradients(args) -> int:
    from seqlab.data import resolve_corpus
    from seqlab.errors import UserError
    from seqlab.explore import gradients as G
    from seqlab.explore.figures import check_output, save_figure
    from seqlab.explore.options import dumps, names_list

    if (args.model is None) != (args.text is None):
        raise UserError("--model and --text go together: a trained model and the text it reads")
    synthetic = [f"--{k}" for k, v in SYNTHETIC.items() if getattr(args, k) != v]
    if args.model and synthetic:   # they used to be ignored, silently: the model's own cells are measured
        raise UserError(f"{', '.join(synthetic)} set the freshly initialised cells; with --model the trained "
                        f"model's own cells are measured (--steps, --batch and --seed apply)")
    text = resolve_corpus(args.text, suffix=".txt") if args.text else None
    out = check_output(args.output, (".png", ".svg"), reads=(args.model, text)) if args.output else None
    if args.model:
        from seqlab.text.corpus import read_text

        lm = load_text_model(args.model)
        result = G.text_gradient_norms(lm, read_text(text), steps=args.steps, batch=args.batch,
                                       seed=args.seed)
        title = f"Gradient reaching back through {args.model} on {args.text}"
    else:
        cells = names_list(args.cells, "--cells", G.CELLS)
        result = G.gradient_norms(cells, hidden=args.hidden, steps=args.steps, batch=args.batch,
                                  scale=args.scale, seed=args.seed)
        title = None
    if out:
        save_figure(G.draw_gradients(result, title), out)
    if args.json:
        print(dumps({"distance": result["distance"], "norms": result["norms"]}))
    else:
        _gradient_table(result)
        _wrote(out)
    return 0


def _gradient_table(result) -> None:
    T = len(result["distance"])
    marks = (0, 1, 10, 25, 50, 100, 200)
    ks = [k for k in marks if k < T] + ([T - 1] if T - 1 not in marks else [])
    series = [(n, v) for n, v in result["norms"].items()]
    series += [(f"{n} (c)", v) for n, v in result.get("c_norms", {}).items()]
    width = max(len(n) for n, _ in series) + 2
    print("mean ‖∂L/∂a⟨T−k⟩‖ by distance k" + (" (c: the LSTM cell state)" if result.get("c_norms") else ""))
    print("k".ljust(width) + "".join(f"{k:>11}" for k in ks))
    for name, v in series:
        print(name.ljust(width) + "".join(f"{v[k]:>11.3g}" for k in ks))


# --- memory ------------------------------------------------------------------------------------------------
def _register_memory(sub) -> None:
    p = sub.add_parser(
        "memory", help="can a cell remember one symbol across L steps?",
        description="A recall task: one of 8 symbols, L distractors from another alphabet, then a marker at "
                    "which the model must name the first symbol. Each cell (one layer and a Dense output) is "
                    "trained with Adam for --steps steps per lag and scored on 1,000 fresh sequences; chance "
                    "is 1/8. Progress goes to stderr when it is a terminal.")
    p.add_argument("--cells", default="rnn,gru,lstm", metavar="LIST",
                   help="any of rnn, gru, lstm (forget bias 0), lstm-fb1 (forget bias 1) (%(default)s)")
    p.add_argument("--lags", default="2,5,10,20,50,100", metavar="LIST", help="distractor lengths (%(default)s)")
    p.add_argument("--hidden", type=int, default=32, help="units of the cell (%(default)s)")
    p.add_argument("--steps", type=int, default=None, metavar="N",
                   help="training steps (batches of 32) per cell and lag (default 3000)")
    _common(p, "write the figure to FILE (.png or .svg)")
    p.set_defaults(func=run_memory)


def run_memory(args) -> int:
    from seqlab.explore import memory as M
    from seqlab.explore.figures import check_output, save_figure
    from seqlab.explore.gradients import CELLS
    from seqlab.explore.options import dumps, ints_list, names_list

    cells = names_list(args.cells, "--cells", CELLS)
    lags = ints_list(args.lags, "--lags", 1)
    out = check_output(args.output, (".png", ".svg")) if args.output else None
    steps = M.DEFAULT_STEPS if args.steps is None else args.steps
    total = len(cells) * len(lags)
    done = []

    def progress(cell, lag, r):
        done.append(1)
        if sys.stderr.isatty():
            sys.stderr.write(f"{cell} lag {lag}: accuracy {r['accuracy']:.3f} ({len(done)}/{total})\n")

    result = M.recall_accuracy(cells, lags, hidden=args.hidden, steps=steps, seed=args.seed, progress=progress)
    if out:
        save_figure(M.draw_memory(result), out)
    if args.json:
        print(dumps({k: result[k] for k in ("lags", "chance", "accuracy")}))
        return 0
    width = max(len(c) for c in cells) + 2
    print(f"recall accuracy after {steps} training steps (chance {result['chance']:.3f})")
    print("lag".ljust(width) + "".join(f"{v:>8}" for v in lags))
    for c in cells:
        print(c.ljust(width) + "".join(f"{a:>8.3f}" for a in result["accuracy"][c]))
    _wrote(out)
    return 0


# --- cells -------------------------------------------------------------------------------------------------
def _register_cells(sub) -> None:
    p = sub.add_parser(
        "cells", help="what the cells of a trained character model do",
        description="Run MODEL over TEXT and rank every cell of every layer (its activation a, and tanh(c) "
                    "for LSTMs) by Pearson's correlation with simple features of the text: quote, paren, "
                    "line_position, word_start, vowel. -o writes one self-contained HTML page with the text "
                    "coloured by the best cell of each feature, and the gates' saturation.")
    _model_argument(p)
    p.add_argument("text", metavar="TEXT", help="UTF-8 text file for the model to read, or a dataset name "
                                                "(shakespeare, dinos, tinyshakespeare)")
    p.add_argument("--feature", metavar="NAME", help="only this feature (quote, paren, line_position, "
                                                     "word_start, vowel)")
    p.add_argument("--cell", metavar="L:K", help="show cell K of layer L (counted from 0) instead of the best")
    p.add_argument("--top", type=int, default=10, help="cells listed per feature in --json (%(default)s)")
    p.add_argument("--max-chars", type=int, default=5000, metavar="N",
                   help="read the first N characters of TEXT (%(default)s)")
    p.add_argument("--png", nargs="?", const="", default=None, metavar="FILE",
                   help="also draw the shown cells as an image (default: -o's name with .png)")
    _common(p, "write the HTML page to FILE (.html)",
            "accepted like the other explorers' (reading a text involves no randomness)")
    p.set_defaults(func=run_cells)


def run_cells(args) -> int:
    from pathlib import Path

    from seqlab.data import resolve_corpus
    from seqlab.errors import UserError
    from seqlab.explore import cells as C
    from seqlab.explore import cells_page
    from seqlab.explore.figures import check_output, save_figure
    from seqlab.explore.options import dumps
    from seqlab.fileio import write_bytes_atomic
    from seqlab.text.corpus import read_text

    features = None if args.feature is None else C.check_features([args.feature])
    if args.top < 1 or args.max_chars < 1:
        raise UserError(f"--top and --max-chars must be at least 1, got {args.top} and {args.max_chars}")
    path = resolve_corpus(args.text, suffix=".txt")
    out = check_output(args.output, (".html", ".htm"), reads=(args.model, path)) if args.output else None
    png = None
    if args.png is not None:
        if args.png == "" and out is None:
            raise UserError("--png without a file name needs -o FILE.html (it writes FILE.png beside it)")
        png = check_output(args.png or out.with_suffix(".png"), (".png", ".svg"), reads=(args.model, path),
                           flag="--png")
    lm = load_text_model(args.model)
    if args.cell is not None:
        C.parse_cell(args.cell, lm.model)
    text = read_text(path)
    if len(text) > args.max_chars:
        text = text[:args.max_chars]
        if not args.json:
            sys.stderr.write(f"reading the first {args.max_chars} characters of {args.text} (--max-chars)\n")
    result = C.explain(lm, text, features=features, cell=args.cell, top=args.top)
    name = Path(args.model).stem if Path(args.model).exists() else args.model
    title = f"The cells of {name}, reading {Path(args.text).name}"
    if out:
        write_bytes_atomic(out, cells_page.cells_html(result, title).encode("utf-8"))
    if png:
        save_figure(cells_page.draw_cells(result), png)
    if args.json:
        print(dumps({"cells": result["cells"], "saturation": result["saturation"]}))
        return 0
    for block in result["shown"]:
        print(block["title"])
    for name in result["skipped"]:
        print(f"{name}: constant over this text, left out")
    for layer, gates in result["saturation"].items():
        print(f"layer {layer} gates, mean fraction of characters < 0.1 / > 0.9: " + ", ".join(
            f"{g} {sum(f['left']) / len(f['left']):.2f}/{sum(f['right']) / len(f['right']):.2f}"
            for g, f in gates.items()))
    _wrote(out, png)
    return 0


# --- sampling ----------------------------------------------------------------------------------------------
def _register_sampling(sub) -> None:
    p = sub.add_parser(
        "sampling", help="how the temperature reshapes the next-character distribution",
        description="The next-character distribution of MODEL after --prefix at several temperatures (bar "
                    "charts of the top characters), its entropy as the temperature varies, and a sample at "
                    "each temperature.")
    _model_argument(p)
    p.add_argument("--prefix", default="", metavar="TEXT", help="what the model reads first (none)")
    p.add_argument("--temperatures", default="0.5,1,1.5", metavar="LIST", help="(%(default)s)")
    p.add_argument("--top", type=int, default=10, help="characters shown per temperature (%(default)s)")
    p.add_argument("--length", type=int, default=100, help="most characters per sample (%(default)s)")
    _common(p, "write the figure to FILE (.png or .svg)")
    p.set_defaults(func=run_sampling)


def run_sampling(args) -> int:
    from seqlab.explore import sampling as S
    from seqlab.explore.figures import check_output, save_figure
    from seqlab.explore.options import dumps, positive_floats_list

    temperatures = positive_floats_list(args.temperatures, "--temperatures")
    out = check_output(args.output, (".png", ".svg"), reads=(args.model,)) if args.output else None
    lm = load_text_model(args.model)
    result = S.temperature_report(lm, args.prefix, temperatures, top=args.top, length=args.length,
                                  seed=args.seed)
    if out:
        save_figure(S.draw_sampling(result), out)
    if args.json:
        print(dumps({k: result[k] for k in ("temperatures", "entropy", "top", "samples")}))
        return 0
    for t, h, top, sample in zip(temperatures, result["entropy"], result["top"], result["samples"]):
        shown = " ".join(f"{S.shown(c)} {p:.2f}" for c, p in top[:6])
        print(f"T = {t:g}: entropy {h:.3f} nats; top: {shown}")
        print("  " + (result["prefix"] + sample).replace("\n", "\n  "))
    _wrote(out)
    return 0
