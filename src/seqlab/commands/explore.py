"""`seqlab explore`: see what the lectures say — gradient flow, long-range memory, cells, sampling.

Each explorer computes with seqlab.explore and writes a figure (-o FILE), the numbers as JSON (--json) or a
short table on stdout.
"""

from __future__ import annotations

import sys

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


def _common(p, out_help: str, seed: int | None = 0) -> None:
    p.add_argument("-o", "--output", metavar="FILE", help=out_help)
    p.add_argument("--json", action="store_true", help="print only the numbers, as JSON, on stdout")
    p.add_argument("--seed", type=int, default=seed, help="random seed (%(default)s)")


# --- gradients ---------------------------------------------------------------------------------------------
def _register_gradients(sub) -> None:
    p = sub.add_parser(
        "gradients", help="how the last step's gradient reaches back through time",
        description="For each cell with the engine's standard initialisation (Glorot input weights, "
                    "orthogonal recurrent weights), random unit-variance inputs and a loss whose gradient is "
                    "a random unit vector on the last hidden state: the mean over the batch of ‖∂L/∂a⟨t⟩‖ "
                    "(and ‖∂L/∂c⟨t⟩‖ for LSTMs) against the distance T − t. --model and --text instead run "
                    "a trained text model over the first --steps characters of a text.")
    p.add_argument("--cells", default="rnn,gru,lstm,lstm-fb1", metavar="LIST",
                   help="any of rnn, gru, lstm (forget bias 0), lstm-fb1 (forget bias 1) (%(default)s)")
    p.add_argument("--hidden", type=int, default=64, help="units (and input size) per cell (%(default)s)")
    p.add_argument("--steps", type=int, default=100, help="sequence length T (%(default)s)")
    p.add_argument("--batch", type=int, default=32, help="sequences averaged over (%(default)s)")
    p.add_argument("--scale", type=float, default=1.0, metavar="S",
                   help="multiply the recurrent weights by S (3 shows gradients exploding) (%(default)s)")
    p.add_argument("--model", metavar="MODEL", help="a trained text model (path or bundled name) instead")
    p.add_argument("--text", metavar="FILE", help="the text the model reads (with --model)")
    _common(p, "write the figure to FILE (.png or .svg)")
    p.set_defaults(func=run_gradients)


def run_gradients(args) -> int:
    from seqlab.errors import UserError
    from seqlab.explore import gradients as G
    from seqlab.explore.figures import check_output, save_figure
    from seqlab.explore.options import dumps, names_list

    if (args.model is None) != (args.text is None):
        raise UserError("--model and --text go together: a trained model and the text it reads")
    out = check_output(args.output, (".png", ".svg")) if args.output else None
    if args.model:
        from seqlab.explore.models import load_text_model
        from seqlab.text.corpus import read_text

        lm = load_text_model(args.model)
        result = G.text_gradient_norms(lm, read_text(args.text), steps=args.steps, batch=args.batch,
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
        if out:
            sys.stderr.write(f"wrote {out}\n")
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


# --- the others are registered as they are written ---------------------------------------------------------
def _register_memory(sub) -> None:
    pass


def _register_cells(sub) -> None:
    pass


def _register_sampling(sub) -> None:
    pass
