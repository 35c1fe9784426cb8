"""`seqlab train`: train a character-level language model on a text file (lines or stream mode)."""

from __future__ import annotations

import contextlib
import shlex
import sys
from dataclasses import fields

from seqlab.errors import UserError
from seqlab.stopping import StopFlag, stop_on_signals
from seqlab.text.train_config import RUNTIME, TrainConfig, flag

# The modules that need NumPy (seqlab.text, .music, .engine ...) are imported inside the functions that use
# them: cli.py imports every command module to build its parser, and `seqlab --help` should not wait for them.

_TYPES = {"int": int, "float": float, "str": str}


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "train", help="train a character-level model on a text corpus",
        description="Train an RNN/LSTM/GRU character model. `lines` mode treats each line as one example "
                    "(names, titles); `stream` mode reads continuous text with truncated backpropagation "
                    "through time. --steps is the total number of optimizer steps; with --resume CKPT the "
                    "run continues from that checkpoint's step and settings to --steps, giving exactly the "
                    "model an uninterrupted run would (a setting given that differs from the run's is "
                    "refused, not ignored). The checkpoint MODEL is written atomically every "
                    "--checkpoint-every steps and at the end; its loss curve goes beside it as "
                    "MODEL-stem.loss.png.")
    p.add_argument("corpus", metavar="CORPUS", help="a UTF-8 text file or a dataset name (dinos, shakespeare)")
    p.add_argument("-o", "--output", required=True, metavar="MODEL", help="checkpoint file to write (.npz)")
    add_config_options(p)
    p.add_argument("--resume", metavar="CKPT", help="continue this checkpoint's run up to --steps")
    p.add_argument("--init", metavar="MODEL",
                   help="start from this model's weights (a checkpoint or bundled name; its vocabulary, "
                        "case and --cell/--hidden/--layers/--embed must be this run's)")
    p.add_argument("--threads", type=int, metavar="N", help="BLAS threads (default: the library's choice)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=run)


def add_config_options(p) -> None:
    """One option per TrainConfig field, from its type, default and metadata (seqlab.text.train_config)."""
    for f in fields(TrainConfig):
        m = f.metadata
        if isinstance(f.default, bool):   # a flag that flips the default
            p.add_argument(flag(f), dest=f.name, action="store_false" if f.default else "store_true",
                           help=m["help"])
            continue
        desc = m["help"]
        shown = "" if f.default == "" else " (%(default)s)"   # an empty default printed as "()"
        p.add_argument(flag(f), dest=f.name, type=_TYPES[f.type], default=f.default, choices=m["choices"],
                       metavar=m["metavar"], help=f"{desc}{shown}".strip())


def config_from_args(args) -> TrainConfig:
    return TrainConfig(**{f.name: getattr(args, f.name) for f in fields(TrainConfig)})


def run(args) -> int:
    from seqlab.training import train

    if args.threads is not None and args.threads < 1:
        raise UserError(f"--threads must be at least 1, got {args.threads}")
    limit = contextlib.nullcontext()
    if args.threads:
        from threadpoolctl import threadpool_limits

        limit = threadpool_limits(limits=args.threads)
    stop = StopFlag()
    with limit, stop_on_signals(stop, log=lambda line: print(line, file=sys.stderr, flush=True)):
        result = train(args.corpus, args.output, config_from_args(args), resume=args.resume,
                       steps=args.steps, init=args.init, progress=not args.quiet, should_stop=stop)
    if result["interrupted"]:
        out = shlex.quote(result["path"])
        runtime = "".join(f" {flag(f)}" + ("" if isinstance(f.default, bool) else
                                           f" {shlex.quote(str(getattr(args, f.name)))}") for f in fields(TrainConfig)
                          if f.name in RUNTIME and getattr(args, f.name) != f.default)  # not in the checkpoint
        print(f"interrupted at step {result['step']}: saved {result['path']}; continue with: seqlab train "
              f"{shlex.quote(str(args.corpus))} -o {out} --resume {out} --steps {result['steps']}{runtime}",
              file=sys.stderr)
        return stop.exit_status
    best, model = result["best"], result.get("model") or result["best"]
    if model["nats_per_char"] is None:
        held = ""
    elif model["step"] == best["step"]:
        held = f", best held-out {best['nats_per_char']:.4f} nats/char at step {best['step']}"
    else:   # the last parameters scored better than every evaluation: they are what the file holds
        held = (f", held-out {model['nats_per_char']:.4f} nats/char with the parameters of step {model['step']} "
                f"(better than the best evaluation, {best['nats_per_char']:.4f} at step {best['step']})")
    for line in _what_else(result):   # before the checkpoint's line, which stays the last
        print(line)
    print(f"wrote {result['path']} at step {result['step']}{held}{_unsuffixed(result['path'])}")
    return 0


def _unsuffixed(path: str) -> str:
    return "" if path.endswith(".npz") else " (a seqlab checkpoint; its name needs no .npz, seqlab reads it as named)"


def _what_else(result: dict) -> list[str]:
    """What the run wrote beside the checkpoint, and what it did not and why (a run shorter than --eval-every
    used to end with no loss plot and no held-out score, without a word)."""
    if result["loss_plot"]:
        lines = [f"wrote {result['loss_plot']} (the loss curve)"]
    elif result["best"]["step"] is None and result["step"] < result["eval_every"]:
        return [f"no held-out score and no loss plot: the run evaluates every --eval-every {result['eval_every']} "
                f"steps and ended at step {result['step']}, before the first evaluation (give --eval-every "
                f"{result['step']} or less for them)"]
    else:
        lines = []
    if result["holdout"] == 0:
        lines.append("no held-out score: --holdout 0 holds nothing out")
    return lines
