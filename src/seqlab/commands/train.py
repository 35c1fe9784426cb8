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
    p.add_argument("--mode", choices=["lines", "stream"], default=_d.mode)
    p.add_argument("--cell", choices=["rnn", "lstm", "gru"], default=_d.cell)
    p.add_argument("--hidden", type=int, default=_d.hidden, metavar="N", help="units per layer (%(default)s)")
    p.add_argument("--layers", type=int, default=_d.layers, metavar="N", help="recurrent layers (%(default)s)")
    p.add_argument("--dropout", type=float, default=_d.dropout, metavar="P",
                   help="dropout between layers and before the output layer (%(default)s)")
    p.add_argument("--weight-drop", type=float, default=_d.weight_drop, metavar="P",
                   help="DropConnect on the recurrent weights (%(default)s)")
    p.add_argument("--embed", type=int, default=_d.embed, metavar="N",
                   help="embedding size; 0 for one-hot inputs (%(default)s)")
    p.add_argument("--steps", type=int, default=_d.steps, metavar="N",
                   help="total optimizer steps of the run (%(default)s)")
    p.add_argument("--batch-size", type=int, default=_d.batch_size, metavar="B", help="(%(default)s)")
    p.add_argument("--seq-len", type=int, default=_d.seq_len, metavar="S",
                   help="stream mode: steps of truncated backpropagation (%(default)s)")
    p.add_argument("--lr", type=float, default=_d.lr, help="Adam learning rate (%(default)s)")
    p.add_argument("--weight-decay", type=float, default=_d.weight_decay, metavar="WD",
                   help="decoupled weight decay of the weight matrices (%(default)s)")
    p.add_argument("--clip", type=float, default=_d.clip, metavar="NORM",
                   help="clip gradients to this global norm; 0 for none (%(default)s)")
    p.add_argument("--warmup", type=int, default=_d.warmup, metavar="N", help="linear warm-up steps (%(default)s)")
    p.add_argument("--decay-steps", type=int, default=_d.decay_steps, metavar="N",
                   help="cosine decay of the learning rate over N steps to --min-lr-ratio of it; "
                        "0 keeps it constant (%(default)s)")
    p.add_argument("--min-lr-ratio", type=float, default=_d.min_lr_ratio, metavar="R", help="(%(default)s)")
    p.add_argument("--holdout", type=float, default=_d.holdout, metavar="F",
                   help="fraction held out to score nats/char (lines: random lines; stream: the end) "
                        "(%(default)s)")
    p.add_argument("--eval-every", type=int, default=_d.eval_every, metavar="N", help="(%(default)s)")
    p.add_argument("--patience", type=int, default=_d.patience, metavar="N",
                   help="stop after N held-out evaluations without improvement; 0 never stops early "
                        "(%(default)s)")
    p.add_argument("--checkpoint-every", type=int, default=_d.checkpoint_every, metavar="N", help="(%(default)s)")
    p.add_argument("--sample-every", type=int, default=_d.sample_every, metavar="N",
                   help="print samples every N steps; 0 for none (%(default)s)")
    p.add_argument("--keep-case", action="store_true", help="do not lower-case the text")
    p.add_argument("--seed", type=int, default=_d.seed, help="(%(default)s)")
    p.add_argument("--resume", metavar="CKPT", help="continue this checkpoint's run up to --steps")
    p.add_argument("--threads", type=int, metavar="N", help="BLAS threads (default: the library's choice)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=run)


def config_from_args(args):
    from seqlab.text.trainer import TrainConfig

    return TrainConfig(
        mode=args.mode, cell=args.cell, hidden=args.hidden, layers=args.layers, dropout=args.dropout,
        embed=args.embed, weight_drop=args.weight_drop, lower=not args.keep_case, steps=args.steps,
        batch_size=args.batch_size,
        seq_len=args.seq_len, lr=args.lr, weight_decay=args.weight_decay, clip=args.clip, warmup=args.warmup,
        decay_steps=args.decay_steps,
        min_lr_ratio=args.min_lr_ratio, holdout=args.holdout, eval_every=args.eval_every,
        patience=args.patience, checkpoint_every=args.checkpoint_every, sample_every=args.sample_every,
        seed=args.seed)


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
