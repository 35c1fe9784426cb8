"""`seqlab train`: train a character-level language model on a text file (lines or stream mode)."""

from __future__ import annotations

from seqlab.text.train_config import TrainConfig

_d = TrainConfig()


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "train", help="train a character-level model on a text corpus",
        description="Train an RNN/LSTM/GRU character model. `lines` mode treats each line as one example "
                    "(names, titles); `stream` mode reads continuous text with truncated backpropagation "
                    "through time. --steps is the total number of optimizer steps; with --resume CKPT the "
                    "run continues from that checkpoint's step and settings to --steps, giving exactly the "
                    "model an uninterrupted run would. The checkpoint MODEL is written atomically every "
                    "--checkpoint-every steps and at the end; its loss curve goes beside it as "
                    "MODEL-stem.loss.png.")
    p.add_argument("corpus", metavar="CORPUS", help="a UTF-8 text file or a dataset name (dinos, shakespeare)")
    p.add_argument("-o", "--output", required=True, metavar="MODEL", help="checkpoint file to write (.npz)")

    def setting(flag: str, kind, desc: str = "", **kw) -> None:
        """An option whose default is TrainConfig's, shown at the end of its help."""
        p.add_argument(flag, type=kind, default=getattr(_d, flag[2:].replace("-", "_")),
                       help=f"{desc} (%(default)s)" if desc else "(%(default)s)", **kw)

    p.add_argument("--mode", choices=["lines", "stream"], default=_d.mode)
    p.add_argument("--cell", choices=["rnn", "lstm", "gru"], default=_d.cell)
    setting("--hidden", int, "units per layer", metavar="N")
    setting("--layers", int, "recurrent layers", metavar="N")
    setting("--dropout", float, "dropout between layers and before the output layer", metavar="P")
    setting("--weight-drop", float, "DropConnect on the recurrent weights", metavar="P")
    setting("--embed", int, "embedding size; 0 for one-hot inputs", metavar="N")
    setting("--steps", int, "total optimizer steps of the run", metavar="N")
    setting("--batch-size", int, metavar="B")
    setting("--seq-len", int, "stream mode: steps of truncated backpropagation", metavar="S")
    setting("--lr", float, "Adam learning rate")
    setting("--weight-decay", float, "decoupled weight decay of the weight matrices", metavar="WD")
    setting("--clip", float, "clip gradients to this global norm; 0 for none", metavar="NORM")
    setting("--warmup", int, "linear warm-up steps", metavar="N")
    setting("--decay-steps", int, "cosine decay of the learning rate over N steps to --min-lr-ratio of it; "
                                  "0 keeps it constant", metavar="N")
    setting("--min-lr-ratio", float, metavar="R")
    setting("--holdout", float, "fraction held out to score nats/char (lines: random lines; stream: the end)",
            metavar="F")
    setting("--eval-every", int, metavar="N")
    setting("--patience", int, "stop after N held-out evaluations without improvement; 0 never stops early",
            metavar="N")
    setting("--checkpoint-every", int, metavar="N")
    setting("--sample-every", int, "print samples every N steps; 0 for none", metavar="N")
    p.add_argument("--keep-case", action="store_true", help="do not lower-case the text")
    setting("--seed", int)
    p.add_argument("--resume", metavar="CKPT", help="continue this checkpoint's run up to --steps")
    p.add_argument("--threads", type=int, metavar="N", help="BLAS threads (default: the library's choice)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=run)


def config_from_args(args) -> TrainConfig:
    return TrainConfig(
        mode=args.mode, cell=args.cell, hidden=args.hidden, layers=args.layers, dropout=args.dropout,
        embed=args.embed, weight_drop=args.weight_drop, lower=not args.keep_case, steps=args.steps,
        batch_size=args.batch_size, seq_len=args.seq_len, lr=args.lr, weight_decay=args.weight_decay,
        clip=args.clip, warmup=args.warmup, decay_steps=args.decay_steps, min_lr_ratio=args.min_lr_ratio,
        holdout=args.holdout, eval_every=args.eval_every, patience=args.patience,
        checkpoint_every=args.checkpoint_every, sample_every=args.sample_every, seed=args.seed)


def run(args) -> int:
    import contextlib

    from seqlab.errors import UserError
    from seqlab.text.trainer import train

    if args.threads is not None and args.threads < 1:
        raise UserError(f"--threads must be at least 1, got {args.threads}")
    limit = contextlib.nullcontext()
    if args.threads:
        from threadpoolctl import threadpool_limits

        limit = threadpool_limits(limits=args.threads)
    with limit:
        result = train(args.corpus, args.output, config_from_args(args), resume=args.resume,
                       steps=args.steps, progress=not args.quiet)
    best = result["best"]
    held = f", best held-out {best['nats_per_char']:.4f} nats/char at step {best['step']}" \
        if best["step"] is not None else ""
    print(f"wrote {result['path']} at step {result['step']}{held}")
    return 0
